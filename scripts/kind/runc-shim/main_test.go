package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSpecToEdit(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		path    string
		process bool
	}{
		{
			name: "containerd-shim-runc-v2 create",
			args: []string{"--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
				"--systemd-cgroup", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "id1"},
			path: "/b/config.json", process: true,
		},
		{
			name: "dockerd create with a console socket",
			args: []string{"--root", "/var/run/docker/runtime-runc/moby", "--log", "/x/log.json", "--log-format", "json",
				"create", "--bundle", "/x", "--pid-file", "/x/init.pid", "--console-socket", "/tmp/pty.sock", "id2"},
			path: "/x/config.json", process: true,
		},
		{
			name: "exec with a process file",
			args: []string{"--root", "/r", "--log", "/x/log.json", "--log-format", "json",
				"exec", "--process", "/tmp/runc-process123", "--detach", "--pid-file", "/x/p.pid", "id3"},
			path: "/tmp/runc-process123", process: false,
		},
		{name: "start edits nothing", args: []string{"--root", "/r", "start", "id4"}},
		{name: "delete edits nothing", args: []string{"--root", "/r", "delete", "--force", "id5"}},
	}
	for _, c := range cases {
		path, process := specToEdit(c.args)
		if path != c.path || process != c.process {
			t.Errorf("%s: got (%q, %v), want (%q, %v)", c.name, path, process, c.path, c.process)
		}
	}
}

func TestDropCapabilities(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.json")
	spec := `{"ociVersion":"1.0.2","process":{"args":["sh"],"capabilities":{` +
		`"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_NET_ADMIN"],` +
		`"effective":["CAP_SYS_RESOURCE"],"permitted":["CAP_CHOWN"]}},"root":{"path":"rootfs"}}`
	if err := os.WriteFile(config, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := dropCapabilities(config, true, map[string]bool{"CAP_SYS_RESOURCE": true}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Process struct {
			Args         []string            `json:"args"`
			Capabilities map[string][]string `json:"capabilities"`
		} `json:"process"`
		Root map[string]string `json:"root"`
	}
	raw, _ := os.ReadFile(config)
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"bounding":  {"CAP_CHOWN", "CAP_NET_ADMIN"},
		"effective": {},
		"permitted": {"CAP_CHOWN"},
	}
	if !reflect.DeepEqual(got.Process.Capabilities, want) {
		t.Errorf("capabilities: got %v, want %v", got.Process.Capabilities, want)
	}
	if got.Root["path"] != "rootfs" || len(got.Process.Args) != 1 {
		t.Errorf("the rest of the spec changed: %s", raw)
	}
	if info, _ := os.Stat(config); info.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", info.Mode().Perm())
	}
}

func TestRealRuncSkipsItself(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "runc")); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "runc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RUNC_SHIM_REAL", "")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+other)
	got, err := realRunc()
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(other, "runc") {
		t.Errorf("got %s, want the runc that is not this program", got)
	}
}
