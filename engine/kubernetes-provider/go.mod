// Wrapper module: builds pulumi-resource-kubernetes from the Go module proxy. The upstream main embeds
// generated files that are not in the module, so main.go here serves the provider with the committed
// schema.json and terraform-mapping.json, copied from the module cache by engine/build.sh.
module coditect.invalid/engine/kubernetes-provider

go 1.26

require (
	github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199
	github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.25.0
)
