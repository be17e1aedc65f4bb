module replica-demo.local/runc-shim

go 1.22
