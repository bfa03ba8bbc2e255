// Renders Go text/templates the way upstream codexctl does, for the equivalence tests of
// `codexctl import` (tests/importer/test_equivalence.py). Standard library only, so it builds
// offline.
//
// The function map mirrors upstream's as its public code writes it (codex-k8s/codexctl,
// internal/config/config.go: buildFuncMap and the func* helpers at the 3486d17 era; indent and
// trimPrefix from its later renderer). The behaviour is written here from that description,
// not copied:
//   default VALUE FALLBACK  FALLBACK when VALUE is empty or only spaces, else VALUE
//   toLower S               strings.ToLower
//   slug S                  lower-cased, trimmed, " " and "_" turned into "-"; nothing else
//   truncSHA S              the first 12 bytes
//   envOr KEY FALLBACK      the variable when present and non-empty, else FALLBACK
//   ternary COND A B        A when COND (a bool) is true, else B
//   now                     the context's clock (fixed by the caller)
//   join LIST SEP           strings.Join
//   indent N S              "" for ""; else every line of S (trailing newlines dropped) prefixed by N spaces
//   trimPrefix S PREFIX     strings.TrimPrefix
// Templates run without Option("missingkey=..."), as upstream's did.
//
// Input (stdin, JSON): {"context": {...}, "templates": [{"name": "...", "text": "..."}]}
// Output (stdout, JSON): [{"name": "...", "output": "...", "error": "..."}]
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"text/template"
	"time"
)

type TemplateContext struct {
	Env         string
	Namespace   string
	Project     string
	ProjectRoot string
	Slot        int
	Now         time.Time
	UserVars    map[string]string
	EnvMap      map[string]string
	Versions    map[string]string
	BaseDomain  map[string]string
}

type input struct {
	Context struct {
		Env         string            `json:"env"`
		Namespace   string            `json:"namespace"`
		Project     string            `json:"project"`
		ProjectRoot string            `json:"projectRoot"`
		Slot        int               `json:"slot"`
		Now         string            `json:"now"`
		UserVars    map[string]string `json:"userVars"`
		EnvMap      map[string]string `json:"envMap"`
		Versions    map[string]string `json:"versions"`
		BaseDomain  map[string]string `json:"baseDomain"`
	} `json:"context"`
	Templates []struct {
		Name string `json:"name"`
		Text string `json:"text"`
	} `json:"templates"`
}

type result struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

func functions(ctx TemplateContext) template.FuncMap {
	return template.FuncMap{
		"default": func(value, fallback string) string {
			if strings.TrimSpace(value) == "" {
				return fallback
			}
			return value
		},
		"toLower": strings.ToLower,
		"slug": func(value string) string {
			out := strings.ToLower(strings.TrimSpace(value))
			return strings.ReplaceAll(strings.ReplaceAll(out, " ", "-"), "_", "-")
		},
		"truncSHA": func(value string) string {
			if len(value) > 12 {
				return value[:12]
			}
			return value
		},
		"envOr": func(key, fallback string) string {
			if value, ok := ctx.EnvMap[key]; ok && value != "" {
				return value
			}
			return fallback
		},
		"ternary": func(condition bool, yes, no any) any {
			if condition {
				return yes
			}
			return no
		},
		"now":  func() time.Time { return ctx.Now },
		"join": func(values []string, sep string) string { return strings.Join(values, sep) },
		"indent": func(spaces int, value string) string {
			if value == "" {
				return ""
			}
			pad := strings.Repeat(" ", spaces)
			lines := strings.Split(strings.TrimRight(value, "\n"), "\n")
			for i := range lines {
				lines[i] = pad + lines[i]
			}
			return strings.Join(lines, "\n")
		},
		"trimPrefix": func(value, prefix string) string { return strings.TrimPrefix(value, prefix) },
	}
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Stderr.WriteString("bad input: " + err.Error() + "\n")
		os.Exit(2)
	}
	now, err := time.Parse(time.RFC3339Nano, in.Context.Now)
	if err != nil {
		os.Stderr.WriteString("bad time: " + err.Error() + "\n")
		os.Exit(2)
	}
	ctx := TemplateContext{
		Env: in.Context.Env, Namespace: in.Context.Namespace, Project: in.Context.Project,
		ProjectRoot: in.Context.ProjectRoot, Slot: in.Context.Slot, Now: now.UTC(),
		UserVars: in.Context.UserVars, EnvMap: in.Context.EnvMap,
		Versions: in.Context.Versions, BaseDomain: in.Context.BaseDomain,
	}
	results := make([]result, 0, len(in.Templates))
	for _, item := range in.Templates {
		res := result{Name: item.Name}
		tmpl, err := template.New(item.Name).Funcs(functions(ctx)).Parse(item.Text)
		if err != nil {
			res.Error = err.Error()
		} else {
			var buf bytes.Buffer
			if err := tmpl.Execute(&buf, ctx); err != nil {
				res.Error = err.Error()
			}
			res.Output = buf.String()
		}
		results = append(results, res)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(results); err != nil {
		os.Exit(1)
	}
}
