# ruff: noqa: E501  (templates are data: one line each, as upstream writes them)
"""Go templates as upstream codexctl projects write them, for tests/importer/test_equivalence.py.

Each one is rendered by Go (tests/importer/go/render.go) and, converted, by this project's
template engine; the two outputs must be the same bytes in every context of CONTEXTS.
"""

from __future__ import annotations

from typing import Any

NOW = "2024-03-05T17:08:09.120000000Z"
"""The fixed clock: Go gets it as ``now``, the converted templates as CODEXCTL_NOW."""

CONTEXTS: dict[str, dict[str, Any]] = {
    "ai-slot": {
        "env": "ai",
        "namespace": "shop-dev-3",
        "project": "shop",
        "projectRoot": "/srv/shop",
        "slot": 3,
        "now": NOW,
        "userVars": {"feature": "x", "empty": ""},
        "envMap": {
            "REGISTRY_HOST": "reg.test:5000",
            "EMPTY": "",
            "UID": "1001",
            "TITLE": "Fix Login_Page ",
            "SHA": "0123456789abcdef0123",
            "CODE_ROOT_BASE": "/srv/slots",
        },
        "versions": {"app": "1.2.3", "busybox": "1.37.0", "web-frontend": "0.1.2"},
        "baseDomain": {"ai": "ai.example.test", "dev": "dev.example.test", "staging": "st.example.test"},
    },
    "dev": {
        "env": "dev",
        "namespace": "shop-dev",
        "project": "shop",
        "projectRoot": "/work/shop",
        "slot": 0,
        "now": "2031-12-31T23:59:58.000000000Z",
        "userVars": {"feature": ""},
        "envMap": {"UID": "abc", "SHA": "abc", "TITLE": "  A b_C  "},
        "versions": {"app": "2.0", "busybox": "1.36", "web-frontend": "9"},
        "baseDomain": {"dev": "dev.example.test"},
    },
}

CASES: dict[str, str] = {
    # --- text, comments, trim markers
    "plain-text": "apiVersion: v1\nkind: ConfigMap\n",
    "comment": "a{{/* a comment */}}b",
    "comment-trimmed": "a  \n {{- /* gone */ -}} \n  b",
    "trim-left": "a   \n\t {{- .Env }}",
    "trim-right": "{{ .Env -}}   \n\n  b",
    "trim-both-lines": "x:\n  {{- .Project -}}\n  :y",
    "trim-in-yaml": 'spec:\n  {{- if eq .Env "ai" }}\n  a: 1\n  {{- end }}\n  b: 2\n',
    "brace-before-action": "a{ {{- .Env }} }",
    "jinja-lookalike-text": "rate: 50{% of {#x}\n",
    "trailing-newlines": "{{ .Env }}\n\n",
    # --- fields and context
    "fields": "{{ .Env }} {{ .Namespace }} {{ .Project }} {{ .ProjectRoot }} {{ .Slot }}",
    "slot-quoted": 'value: "{{ .Slot }}"',
    "versions-field-missing": "[{{ .Versions.missing }}]",
    "versions-field": "{{ .Versions.app }}",
    "basedomain-field": "{{ .BaseDomain.dev }}",
    "uservars-field": "[{{ .UserVars.feature }}]",
    "uservars-missing": "[{{ .UserVars.nope }}]",
    "envmap-field": "{{ .EnvMap.UID }}",
    "envmap-missing": "[{{ .EnvMap.NOPE }}]",
    "dollar-root": "{{ $.Env }}-{{ $.Slot }}",
    "map-print": "{{ .Versions }}",
    "map-print-uservars": "{{ .UserVars }}",
    # --- index
    "index-versions": '{{ index .Versions "web-frontend" }}',
    "index-missing": '[{{ index .Versions "missing" }}]',
    "index-basedomain-env": "{{ index .BaseDomain .Env }}",
    "index-nested": '{{ index .Versions (ternary (eq .Env "ai") "app" "busybox") }}',
    "index-of-index-key": '{{ index .BaseDomain (index .UserVars "nope") }}|{{ index .BaseDomain (printf "%s" .Env) }}',
    "index-envmap": '{{ index .EnvMap "UID" }}',
    "index-piped": '{{ index .Versions "web-frontend" | printf "v%s" }}',
    "index-var": '{{ $v := .Versions }}{{ index $v "app" }}',
    # --- functions of upstream's map
    "default-value-first": '{{ default (envOr "CODE_ROOT_BASE" "") (printf "%s/slots" .ProjectRoot) }}',
    "default-empty-env": '{{ default (envOr "EMPTY" "") "fallback" }}',
    "default-blank": '{{ default "   " "fallback" }}',
    "default-piped-literal": '{{ "" | default "fallback" }}',
    "default-piped-field": '{{ .Env | default "fallback" }}',
    "default-piped-blank": '{{ .Env | default " " }}',
    "default-field": "{{ default .Env .Project }}",
    "tolower": '{{ toLower "ÄbC" }}-{{ .Project | toLower }}',
    "slug": '{{ slug (envOr "TITLE" "") }}',
    "slug-piped": '{{ "Hello World_x" | slug }}',
    "truncsha": '{{ truncSHA (envOr "SHA" "") }}|{{ truncSHA "short" }}',
    "envor": '{{ envOr "REGISTRY_HOST" "localhost:32000" }}|{{ envOr "NOPE" "fb" }}|{{ envOr "EMPTY" "fb" }}',
    "envor-nested": '{{ envOr "NOPE" (envOr "REGISTRY_HOST" "x") }}',
    "ternary": '{{ ternary (eq .Env "ai") "staging" .Env }}',
    "ternary-piped": '{{ "no" | ternary (eq .Env "dev") "yes" }}',
    "ternary-int": "{{ ternary (gt .Slot 0) .Slot 1 }}",
    "trimprefix": '{{ trimPrefix .Namespace "shop-" }}',
    "trimprefix-piped": '{{ "shop-" | trimPrefix .Namespace }}|{{ .Namespace | trimPrefix "shop-dev" }}',
    "indent": '{{ indent 2 "a\\nb" }}',
    "indent-piped": 'x:\n{{ "line1\\nline2\\n\\n" | indent 4 }}\n',
    "indent-empty": '[{{ indent 3 "" }}]',
    # --- now, with a fixed clock
    "now": "{{ now }}",
    "now-field": "{{ .Now }}",
    "now-format-date": '{{ (now).Format "2006-01-02" }}',
    "now-format-rfc3339": '{{ (now).Format "2006-01-02T15:04:05Z07:00" }}',
    "now-format-millis": '{{ .Now.Format "15:04:05.000" }}',
    "now-format-trimmed": '{{ .Now.Format "05.999999999|.99" }}',
    "now-format-words": '{{ (now).Format "Jan 2, 2006 at 3:04pm (MST)" }}',
    "now-format-misc": '{{ (now).Format "January _2 06 03 PM -0700 -07:00" }}',
    "now-parts": "{{ .Now.Year }}/{{ .Now.Month }}/{{ .Now.Day }} {{ .Now.Hour }}:{{ .Now.Minute }}:{{ .Now.Second }}",
    "now-utc-format": '{{ .Now.UTC.Format "20060102" }}',
    "now-printf": '{{ printf "at %s" .Now }}',
    # --- printf verbs
    "printf-s-d": '{{ printf "%s/%d/src" .ProjectRoot .Slot }}',
    "printf-width": '{{ printf "[%5s][%-5s][%3d][%-3d]" .Env .Env .Slot .Slot }}',
    "printf-zero": '{{ printf "%05d|%03d" 42 .Slot }}',
    "printf-hex": '{{ printf "%x %X %o %#x" 255 255 8 255 }}',
    "printf-quote": '{{ printf "%q" .Project }}|{{ .Env | printf "%q" }}',
    "printf-v": '{{ printf "%v %v %v" .Env .Slot (eq .Slot 3) }}',
    "printf-t": '{{ printf "%t|%t" true (eq .Env "dev") }}',
    "printf-percent": '{{ printf "%d%%" 50 }}',
    "printf-index": '{{ printf "%[2]s-%[1]s" "a" "b" }}',
    "printf-star": '{{ printf "[%*d]" 5 42 }}',
    "printf-float": '{{ printf "%.2f|%8.3f|%e" 3.14159 2.5 1234.5 }}',
    "printf-precision": '{{ printf "%.2s|%.3s" .Project "abcdef" }}',
    "printf-sign": '{{ printf "%+d|% d" .Slot 7 }}',
    "printf-char": "{{ printf \"%c%c\" 'A' 98 }}",
    "printf-piped": '{{ .Slot | printf "%03d" }}|{{ "x" | printf "%s-%s" "a" }}',
    "printf-no-args": '{{ printf "100%%" }}',
    "printf-nested": '{{ printf "%s.%s" (printf "dev-%d" .Slot) (index .BaseDomain "dev") }}',
    "printf-unicode": '{{ printf "%-6s|%3s|" "héé" "ü" }}',
    # --- literals
    "numbers": "{{ 0x1F }} {{ 1_000 }} {{ 017 }} {{ 'a' }} {{ -3 }}",
    "strings": '{{ "tab\\there" }}|{{ "q\\"s" }}|{{ "\\u00e9" }}|{{ `raw\\n` }}',
    "bool-literal": "{{ true }} {{ false }}",
    # --- comparison and logic
    "eq": '{{ eq .Env "ai" }}',
    "eq-many": '{{ eq .Env "dev" "ai" "staging" }}',
    "ne": '{{ ne .Env "dev" }}',
    "lt-le-gt-ge": "{{ lt .Slot 3 }} {{ le .Slot 3 }} {{ gt .Slot 0 }} {{ ge .Slot 4 }}",
    "not": '{{ not "" }} {{ not .Slot }}',
    "and-values": "{{ and .Slot .Env }}|{{ and true false }}",
    "or-values": '{{ or "" .Env }}|{{ or false "" }}|{{ or 0 .Slot }}',
    "len": "{{ len .Versions }} {{ len .Env }} {{ eq (len .Env) 2 }}",
    "print": '{{ print "a" 1 2 "b" }}|{{ print .Slot .Slot }}',
    "println": "{{ println .Slot .Env }}end",
    # --- if / else if / else
    "if": '{{ if eq .Env "ai" }}slot{{ end }}',
    "if-else": '{{ if eq .Env "ai" }}slot{{ else }}long-lived{{ end }}',
    "if-else-if": '{{ if and (eq .Env "ai") (gt .Slot 0) }}slot{{ else if eq .Env "dev" }}dev{{ else }}other{{ end }}',
    "if-value": "{{ if .UserVars.feature }}on{{ else }}off{{ end }}",
    "if-decl": '{{ if $x := index .UserVars "feature" }}on:{{ $x }}{{ else }}off{{ end }}',
    "else-if-decl": '{{ if eq .Env "none" }}a{{ else if $y := .Project }}{{ $y }}{{ end }}',
    "if-nested": "{{ if gt .Slot 0 }}{{ if eq .Slot 3 }}three{{ else }}other{{ end }}{{ else }}none{{ end }}",
    "if-yaml-block": (
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        '      {{- if eq .Env "ai" }}\n'
        "      securityContext:\n"
        '        fsGroup: {{ envOr "UID" "1000" }}\n'
        "      {{- end }}\n"
        "      dnsPolicy: ClusterFirst\n"
    ),
    "if-whole-documents": (
        '{{- if eq .Env "ai" }}\n'
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-{{ .Slot }}\n"
        "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
        "{{- end }}\n"
    ),
    # --- with
    "with": "{{ with .UserVars.feature }}[{{ . }}]{{ else }}none{{ end }}",
    "with-map": "{{ with .Versions }}{{ .app }}{{ end }}",
    "with-decl": '{{ with $x := "w" }}{{ . }}{{ $x }}{{ end }}',
    "else-with": '{{ with "" }}yes{{ else with .Project }}{{ . }}{{ else }}no{{ end }}',
    "with-root": "{{ with .Env }}{{ . }}:{{ $.Project }}{{ end }}",
    # --- range
    "range-map": "{{ range $k, $v := .Versions }}{{ $k }}={{ $v }};{{ end }}",
    "range-map-value": "{{ range .Versions }}{{ . }};{{ end }}",
    "range-map-one-var": "{{ range $v := .BaseDomain }}{{ $v }},{{ end }}",
    "range-root": "{{ range .Versions }}{{ $.Env }}{{ end }}",
    "range-int": "{{ range $i := 3 }}{{ $i }}{{ end }}",
    "range-else": "{{ range .UserVars }}{{ . }}|{{ else }}empty{{ end }}",
    "range-yaml": ("data:\n{{- range $env, $domain := .BaseDomain }}\n  {{ $env }}: {{ $domain }}\n{{- end }}\n"),
    "range-assign-outer": '{{ $s := "" }}{{ range $k, $v := .Versions }}{{ $s = printf "%s%s," $s $k }}{{ end }}{{ $s }}',
    "range-assign-int": "{{ $x := 10 }}{{ range $i := 3 }}{{ $x = $i }}{{ end }}{{ $x }}",
    "range-decl-inside": '{{ range $k, $v := .Versions }}{{ $u := printf "<%s>" $v }}{{ $u }}{{ end }}',
    # --- variables
    "var-decl": '{{ $a := "x" }}{{ $a }}',
    "var-assign": '{{ $a := "x" }}{{ $a = printf "%s-y" $a }}{{ $a }}',
    "var-shadow": '{{ $x := "outer" }}{{ if true }}{{ $x := "inner" }}{{ $x }}{{ end }}{{ $x }}',
    "var-assign-in-if": '{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}',
    "var-preamble": (
        '{{- $host := ternary (eq .Env "ai") (printf "dev-%d.%s" .Slot (index .BaseDomain "ai")) (index .BaseDomain .Env) -}}\n'
        '{{- $tagEnv := ternary (eq .Env "ai") "staging" .Env -}}\n'
        'host: {{ $host }}\ntag: {{ $tagEnv }}-{{ index .Versions "app" }}\n'
    ),
    "var-default-chain": (
        '{{- $codeRootBase := envOr "CODE_ROOT_BASE" "" -}}\n'
        '{{- $slotCodeRoot := default $codeRootBase (printf "%s/slots" .ProjectRoot) -}}\n'
        '{{- $stagingCodeRoot := default (ternary (ne $codeRootBase "") (printf "%s/ai-staging/src" $codeRootBase) "") .ProjectRoot -}}\n'
        "{{ $slotCodeRoot }}|{{ $stagingCodeRoot }}"
    ),
    # --- define / template / block
    "define-template": '{{ define "x" }}[{{ .Env }}]{{ end }}{{ template "x" . }}{{ template "x" . }}',
    "block": '{{ block "b" . }}<{{ .Project }}>{{ end }}',
    "template-with-data": '{{ define "v" }}({{ . }}){{ end }}{{ template "v" .Env }}',
    # --- YAML typing of outside values
    "typed-int-scalar": 'runAsUser: {{ envOr "UID" "1000" }}\nfsGroup: {{ envOr "NOPE" "1000" }}\n',
    "typed-string-scalar": 'host: {{ envOr "REGISTRY_HOST" "localhost" }}\n',
    "quoted-scalar": 'value: \'{{ envOr "EMPTY" "" }}\'\nother: "{{ envOr "UID" "1" }}"\n',
    # --- pipelines and parentheses
    "pipeline-chain": '{{ .Project | printf "%s-x" | toLower | printf "[%s]" }}',
    "parens": '{{ (printf "%s" (index .BaseDomain (ternary (eq .Env "ai") "ai" "dev"))) | toLower }}',
    "chain-of-parens": '{{ (index .Versions "app") }}',
    "len-of-index": '{{ len (index .Versions "app") }}',
    # --- whole manifests in upstream's style
    "manifest-configmap": (
        '{{- $host := ternary (eq .Env "ai") (printf "dev-%d.%s" .Slot (index .BaseDomain "ai")) (index .BaseDomain .Env) -}}\n'
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: shop-config\n"
        "  namespace: {{ .Namespace }}\n"
        "data:\n"
        '  HOST: "{{ $host }}"\n'
        '  STAGE: "{{ .Env }}"\n'
    ),
    "manifest-deployment": (
        '{{- $tagEnv := ternary (eq .Env "ai") "staging" .Env -}}\n'
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: app\n"
        '          image: {{ envOr "REGISTRY_HOST" "localhost:32000" }}/shop/app:{{ $tagEnv }}-{{ index .Versions "app" }}\n'
        '          {{- if or (eq .Env "ai") (eq .Env "staging") }}\n'
        "          securityContext:\n"
        '            runAsUser: {{ envOr "UID" "1000" }}\n'
        "          {{- end }}\n"
        "          env:\n"
        "            - name: SLOT\n"
        '              value: "{{ .Slot }}"\n'
    ),
    "manifest-hostpath": (
        '{{- $dataRoot := default (envOr "DATA_ROOT" "") (printf "%s/.data" .ProjectRoot) -}}\n'
        '{{- $envDir := ternary (eq .Env "ai") (printf "%s/slots/%d" $dataRoot .Slot) (printf "%s/%s" $dataRoot .Env) -}}\n'
        "volumes:\n"
        "  - name: data\n"
        "    hostPath:\n"
        '      path: {{ printf "%s/postgres" $envDir }}\n'
        "      type: DirectoryOrCreate\n"
    ),
    "manifest-ingress-if": (
        '{{- if eq .Env "ai" }}\n'
        "apiVersion: networking.k8s.io/v1\n"
        "kind: Ingress\n"
        "metadata:\n"
        "  name: ingress-dev-{{ .Slot }}\n"
        "spec:\n"
        "  tls:\n"
        "    - hosts:\n"
        '        - dev-{{ .Slot }}.{{ index .BaseDomain "ai" }}\n'
        '      secretName: {{ printf "shop-dev-%d-tls" .Slot }}\n'
        "{{- end }}\n"
    ),
    "manifest-range-env": (
        "env:\n"
        "{{- range $name, $value := .UserVars }}\n"
        "  - name: {{ $name | toLower }}\n"
        '    value: "{{ $value }}"\n'
        "{{- end }}\n"
    ),
    "manifest-else-chain": (
        'replicas: {{ if eq .Env "dev" }}1{{ else if eq .Env "ai" }}{{ .Slot }}{{ else }}3{{ end }}\n'
        'policy: {{ ternary (eq .Env "staging") "Always" "IfNotPresent" }}\n'
    ),
    "manifest-with-block": ('{{ with index .BaseDomain "staging" }}host: {{ . }}{{ else }}host: none{{ end }}\n'),
}
