package events

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// env.json is for `sam local invoke --env-vars events/env.json`. SAM only
// overrides variables the template declares for the function, so a name here
// that the template lacks would be silently ignored: each must be declared.
func TestEnvVarsAreTheTemplates(t *testing.T) {
	b, err := os.ReadFile("../template.yaml")
	require.NoError(t, err)
	var tmpl struct {
		Globals struct {
			Function struct {
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(b, &tmpl))
	global := tmpl.Globals.Function.Environment.Variables

	raw, err := os.ReadFile("env.json")
	require.NoError(t, err)
	var env map[string]map[string]string
	require.NoError(t, json.Unmarshal(raw, &env))
	for fn, vars := range env {
		declared := map[string]bool{}
		for k := range global {
			declared[k] = true
		}
		if fn != "Parameters" {
			res, ok := tmpl.Resources[fn]
			require.True(t, ok && res.Type == "AWS::Serverless::Function", "env.json names %s, no function of template.yaml", fn)
			for k := range res.Properties.Environment.Variables {
				declared[k] = true
			}
		}
		for k := range vars {
			assert.True(t, declared[k], "env.json sets %s for %s; template.yaml does not declare it there, so SAM would ignore it", k, fn)
		}
	}
}
