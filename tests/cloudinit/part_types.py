#!/usr/bin/python3
"""How cloud-init types each part of user data (issue #15's differential).

Reads every file named on the command line with cloud-init's own UserDataProcessor (Debian's
cloud-init package: run it with /usr/bin/python3) and prints one JSON line per file:
{"file": NAME, "multipart": whether cloud-init read a multipart message, "types": [content type of
each part cloud-init dispatches, in order]}, or
{"file": NAME, "error": MESSAGE}. `#include` URLs are recorded, not fetched; a
cloud-config-archive is recorded as one part, not exploded. Written by the project; it only
drives cloud-init's code.
"""
import json
import sys

from cloudinit import helpers, user_data


class Recording(user_data.UserDataProcessor):
    def __init__(self, paths):
        super().__init__(paths)
        self.types = []

    def _attach_part(self, outer_msg, part):
        self.types.append(part.get_content_type())

    def _do_include(self, content, append_msg):
        self.types.append("text/x-include-url")

    def _explode_archive(self, archive, append_msg):
        self.types.append("text/cloud-config-archive")


def main():
    paths = helpers.Paths({})
    for name in sys.argv[1:]:
        with open(name, "rb") as f:
            blob = f.read()
        p = Recording(paths)
        try:
            multipart = user_data.convert_string(blob).is_multipart()
            p.process(blob)
            print(json.dumps({"file": name, "multipart": multipart, "types": p.types}))
        except Exception as e:  # a crash in cloud-init is data here
            print(json.dumps({"file": name, "error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
