module eks-userdata/tests/gofmt

go 1.21
