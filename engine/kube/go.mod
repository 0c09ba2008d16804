// Wrapper module: builds kube-apiserver and kube-controller-manager from the Go module proxy.
// engine/build.sh adds the require of k8s.io/kubernetes and one replace per staging module, read from that
// release's own go.mod (its replaces point at ./staging paths that a module download does not hold).
module coditect.invalid/engine/kube

go 1.26
