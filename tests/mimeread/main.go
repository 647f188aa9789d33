// Command mimeread reads EC2 user data the way nodeadm's user-data provider does, with the Go
// standard library only, and prints what it saw as one JSON document per input file: whether
// the payload was whole-payload base64 or gzip, whether it was read as MIME multipart, each part
// nodeadm's reader returned (its Content-Type header, the parsed media type, the body after the
// per-part base64/gzip decoding nodeadm applies to NodeConfig parts), and the error that makes
// nodeadm fail, if any. It is the judge of eks-userdata's envelope reader (issue #15): the steps
// follow nodeadm's configprovider (base64 with StdEncoding when it decodes, gunzip by magic
// bytes, net/mail.ReadMessage, mime.ParseMediaType, mime/multipart NextPart), written anew here.
//
// Usage: mimeread FILE... > out.jsonl
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
)

type part struct {
	ContentType *string `json:"content_type"`
	Media       *string `json:"media"`
	BodyLen     int     `json:"body_len"`
	BodySHA     string  `json:"body_sha256"`
}

type result struct {
	File      string  `json:"file"`
	Base64    bool    `json:"base64"`
	Gzip      bool    `json:"gzip"`
	Multipart bool    `json:"multipart"`
	Parts     []part  `json:"parts"`
	Fatal     *string `json:"fatal"`
}

const nodeConfigMedia = "application/node.eks.aws"

func maybeBase64(data []byte) ([]byte, bool) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(out, data)
	if err != nil {
		return data, false
	}
	return out[:n], true
}

func maybeGunzip(data []byte) ([]byte, bool, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, false, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, true, err
	}
	out, err := io.ReadAll(io.LimitReader(r, 64<<20))
	return out, true, err
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func read(name string, data []byte) result {
	res := result{File: name, Parts: []part{}}
	fail := func(err error) result {
		msg := err.Error()
		res.Fatal = &msg
		return res
	}
	data, res.Base64 = maybeBase64(data)
	data, gz, err := maybeGunzip(data)
	res.Gzip = gz
	if err != nil {
		return fail(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return res // not a message: nodeadm decodes the whole payload as one NodeConfig
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(media, "multipart/") {
		return res
	}
	res.Multipart = true
	reader := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := reader.NextPart()
		// nodeadm compares with ==: a wrapped EOF ("multipart: NextPart: EOF", input that ends
		// inside a delimiter line) is an error to it, not the end.
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		entry := part{}
		body, err := io.ReadAll(p)
		if err != nil {
			return fail(err)
		}
		if header := p.Header.Get("Content-Type"); len(header) > 0 {
			entry.ContentType = &header
			media, _, err := mime.ParseMediaType(header)
			if err != nil {
				res.Parts = append(res.Parts, entry)
				return fail(fmt.Errorf("part %d: %w", len(res.Parts), err))
			}
			entry.Media = &media
			if media == nodeConfigMedia {
				body, _ = maybeBase64(body)
				body, _, err = maybeGunzip(body)
				if err != nil {
					res.Parts = append(res.Parts, entry)
					return fail(fmt.Errorf("part %d: %w", len(res.Parts), err))
				}
			}
		}
		entry.BodyLen = len(body)
		entry.BodySHA = sum(body)
		res.Parts = append(res.Parts, entry)
	}
	return res
}

func main() {
	out := json.NewEncoder(os.Stdout)
	for _, name := range os.Args[1:] {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := out.Encode(read(name, data)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}
