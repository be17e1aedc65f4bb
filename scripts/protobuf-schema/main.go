// Command protobuf-schema writes the wire layout of the Kubernetes objects the embedded
// cluster accepts (src/sim/api/protobuf-schema.json), read from the real Go types: the
// protobuf struct tags give field numbers and wire types, the json tags the names and
// omitempty. The embedded cluster decodes kubectl's protobuf bodies with it, into the JSON
// the real API server would make of them.
//
// Run it with `npm run protobuf:schema`; it needs Go only then.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The top-level kinds, by apiVersion and kind as the envelope names them.
var kinds = []struct {
	apiVersion string
	value      any
}{
	{"v1", corev1.Namespace{}},
	{"v1", corev1.Node{}},
	{"v1", corev1.Pod{}},
	{"v1", corev1.Service{}},
	{"v1", corev1.Endpoints{}},
	{"v1", corev1.ConfigMap{}},
	{"v1", corev1.Secret{}},
	{"v1", corev1.ServiceAccount{}},
	{"v1", corev1.ResourceQuota{}},
	{"v1", corev1.LimitRange{}},
	{"v1", corev1.Event{}},
	{"apps/v1", appsv1.Deployment{}},
	{"apps/v1", appsv1.ReplicaSet{}},
	{"batch/v1", batchv1.Job{}},
	{"discovery.k8s.io/v1", discoveryv1.EndpointSlice{}},
	{"policy/v1", policyv1.PodDisruptionBudget{}},
	{"policy/v1", policyv1.Eviction{}},
	{"autoscaling/v1", autoscalingv1.Scale{}},
	{"authorization.k8s.io/v1", authorizationv1.SelfSubjectAccessReview{}},
	{"meta.k8s.io/v1", metav1.DeleteOptions{}},
	{"v1", metav1.DeleteOptions{}},
}

// Types with their own protobuf and JSON forms, written by hand in the decoder.
var special = map[reflect.Type]string{
	reflect.TypeOf(metav1.Time{}):          "time",
	reflect.TypeOf(metav1.MicroTime{}):     "microtime",
	reflect.TypeOf(metav1.Duration{}):      "duration",
	reflect.TypeOf(resource.Quantity{}):    "quantity",
	reflect.TypeOf(intstr.IntOrString{}):   "intstr",
	reflect.TypeOf(runtime.RawExtension{}): "rawext",
}

// Field is one struct field: protobuf number, JSON name and type; flags only when set.
type Field struct {
	No        int    `json:"n"`
	JSON      string `json:"j,omitempty"`
	Type      string `json:"t"`
	OmitEmpty bool   `json:"o,omitempty"`
	OmitZero  bool   `json:"z,omitempty"`
	Inline    bool   `json:"i,omitempty"`
}

// Schema is the file: each kind's root type, and every struct type it reaches.
type Schema struct {
	Source string             `json:"source"`
	Kinds  map[string]string  `json:"kinds"`
	Types  map[string][]Field `json:"types"`
}

type walker struct {
	types map[string][]Field
}

func typeName(t reflect.Type) string {
	pkg := t.PkgPath()
	switch {
	case strings.HasPrefix(pkg, "k8s.io/api/"):
		pkg = strings.TrimPrefix(pkg, "k8s.io/api/")
	case strings.HasPrefix(pkg, "k8s.io/apimachinery/pkg/apis/"):
		pkg = strings.TrimPrefix(pkg, "k8s.io/apimachinery/pkg/apis/")
	case strings.HasPrefix(pkg, "k8s.io/apimachinery/pkg/"):
		pkg = strings.TrimPrefix(pkg, "k8s.io/apimachinery/pkg/")
	}
	return pkg + "." + t.Name()
}

// typeOf names a Go type in the schema's small language: scalars by their wire form,
// `*T` a pointer, `[]T` a repeated field, `map[K]V` a map, special types by name, and any
// other struct by its package and name (walked in turn).
func (w *walker) typeOf(t reflect.Type, wire string) string {
	if s, ok := special[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + w.typeOf(t.Elem(), wire)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + w.typeOf(t.Elem(), wire)
	case reflect.Map:
		return "map[" + w.typeOf(t.Key(), "bytes") + "]" + w.typeOf(t.Elem(), "bytes")
	case reflect.Struct:
		w.walk(t)
		return typeName(t)
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int32, reflect.Int64, reflect.Int, reflect.Uint32, reflect.Uint64, reflect.Uint16:
		return t.Kind().String()
	case reflect.Float64:
		return "float64"
	}
	panic(fmt.Sprintf("unsupported Go type %s (wire %s)", t, wire))
}

func (w *walker) walk(t reflect.Type) {
	name := typeName(t)
	if _, seen := w.types[name]; seen {
		return
	}
	w.types[name] = nil // marks it while its fields are walked
	var fields []Field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("protobuf")
		if tag == "" || !f.IsExported() {
			continue // TypeMeta: the envelope carries apiVersion and kind
		}
		parts := strings.Split(tag, ",")
		no, err := strconv.Atoi(parts[1])
		if err != nil {
			panic(fmt.Sprintf("%s.%s: bad protobuf tag %q", name, f.Name, tag))
		}
		jsonTag := strings.Split(f.Tag.Get("json"), ",")
		if jsonTag[0] == "-" {
			continue
		}
		field := Field{No: no, JSON: jsonTag[0], Type: w.typeOf(f.Type, parts[0])}
		for _, opt := range jsonTag[1:] {
			switch opt {
			case "omitempty":
				field.OmitEmpty = true
			case "omitzero":
				field.OmitZero = true
			case "inline":
				field.Inline = true
			}
		}
		// encoding/json flattens an embedded struct without a JSON name, whatever its tag says.
		if f.Anonymous && field.JSON == "" {
			field.Inline = true
		}
		if field.JSON == "" && !field.Inline {
			field.JSON = f.Name
		}
		fields = append(fields, field)
	}
	if fields == nil {
		fields = []Field{}
	}
	w.types[name] = fields
}

func main() {
	out := "src/sim/api/protobuf-schema.json"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	w := &walker{types: map[string][]Field{}}
	schema := Schema{Kinds: map[string]string{}, Types: w.types}
	for _, k := range kinds {
		t := reflect.TypeOf(k.value)
		w.walk(t)
		schema.Kinds[k.apiVersion+"/"+t.Name()] = typeName(t)
	}
	schema.Source = moduleVersions()
	// One type a line: readable diffs when the generator or the Kubernetes version changes.
	names := make([]string, 0, len(w.types))
	for n := range w.types {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	head, _ := json.Marshal(schema.Source)
	kindsJSON, _ := json.Marshal(schema.Kinds)
	fmt.Fprintf(&b, "{\n\"source\": %s,\n\"kinds\": %s,\n\"types\": {\n", head, kindsJSON)
	for i, n := range names {
		fields, _ := json.Marshal(w.types[n])
		sep := ","
		if i == len(names)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "%q: %s%s\n", n, fields, sep)
	}
	b.WriteString("}\n}\n")
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d kinds, %d types (%s)\n", out, len(schema.Kinds), len(names), schema.Source)
}

// moduleVersions names the k8s.io modules the types came from, for the file's header.
func moduleVersions() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var out []string
	for _, d := range info.Deps {
		if d.Path == "k8s.io/api" || d.Path == "k8s.io/apimachinery" {
			out = append(out, d.Path+"@"+d.Version)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
