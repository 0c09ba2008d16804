// Wrapper module: builds etcd (the local cluster's store) from the Go module proxy.
module coditect.invalid/engine/etcd

go 1.26


require go.etcd.io/etcd/server/v3 v3.6.16
