module github.com/xinqiao/xinqiao

go 1.26.8
