// Wrapper module: builds the Pulumi CLI at the version in engine/versions.env from the Go module proxy.
// pkg/v3's own go.mod has replaces, so `go install pkg@version` refuses it; this module requires it instead
// and repeats the one replace that matters (github.com/pulumi/pulumi pkg/go.mod).
module coditect.invalid/engine/cli

go 1.26


require github.com/pulumi/pulumi/pkg/v3 v3.274.1

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
