//go:build tools

// The main engine/build.sh builds; this file makes `go mod tidy` keep its dependencies.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
