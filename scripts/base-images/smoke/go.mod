module smoke

go 1.22
