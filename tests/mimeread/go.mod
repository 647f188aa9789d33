module eks-userdata/tests/mimeread

go 1.21
