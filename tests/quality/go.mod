module example.com/quality

go 1.22
