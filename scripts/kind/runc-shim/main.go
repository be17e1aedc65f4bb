// Command runc-shim stands in front of runc on hosts whose capability bounding set lacks
// capabilities a privileged container asks for. runc refuses such a container ("unable to
// apply caps: operation not permitted"); this removes the missing capabilities from the
// container's spec (the bundle's config.json on create and run, the --process file on exec)
// and then runs the real runc with the same arguments. On a host that has every
// capability it changes nothing.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The numbering of linux/capability.h; a bounding-set bit outside this list is ignored.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func main() {
	real, err := realRunc()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runc-shim: %v\n", err)
		os.Exit(1)
	}
	missing, err := missingCapabilities()
	if err == nil && len(missing) > 0 {
		if spec, field := specToEdit(os.Args[1:]); spec != "" {
			if err := dropCapabilities(spec, field, missing); err != nil {
				fmt.Fprintf(os.Stderr, "runc-shim: %s: %v\n", spec, err)
				os.Exit(1)
			}
		}
	}
	args := append([]string{real}, os.Args[1:]...)
	if err := syscall.Exec(real, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-shim: cannot run %s: %v\n", real, err)
		os.Exit(1)
	}
}

// realRunc is $RUNC_SHIM_REAL, or the first runc on PATH (then in the usual folders) that is
// not this program: the shim may itself be installed as "runc" ahead of the real one.
func realRunc() (string, error) {
	if path := os.Getenv("RUNC_SHIM_REAL"); path != "" {
		return path, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	selfInfo, err := os.Stat(self)
	if err != nil {
		return "", err
	}
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	for _, dir := range dirs {
		candidate := filepath.Join(dir, "runc")
		info, err := os.Stat(candidate)
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 || os.SameFile(info, selfInfo) {
			continue
		}
		return candidate, nil
	}
	return "", fmt.Errorf("no runc found on PATH or in the usual folders (set RUNC_SHIM_REAL)")
}

// missingCapabilities lists the known capabilities absent from this process's bounding set.
func missingCapabilities() (map[string]bool, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		value, found := strings.CutPrefix(line, "CapBnd:")
		if !found {
			continue
		}
		bits, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		if err != nil {
			return nil, err
		}
		missing := map[string]bool{}
		for i, name := range capabilityNames {
			if bits&(1<<uint(i)) == 0 {
				missing[name] = true
			}
		}
		return missing, nil
	}
	return nil, fmt.Errorf("no CapBnd line")
}

// specToEdit finds the OCI document runc is about to use: config.json of the bundle for
// create and run (the process is under "process"), the --process file for exec (the
// document is the process itself).
func specToEdit(args []string) (path string, processField bool) {
	command := ""
	bundle := "."
	process := ""
	for i := 0; i < len(args); i++ {
		arg := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case arg == "--bundle" || arg == "-b":
			bundle = next()
		case strings.HasPrefix(arg, "--bundle="):
			bundle = strings.TrimPrefix(arg, "--bundle=")
		case arg == "--process" || arg == "-p":
			process = next()
		case strings.HasPrefix(arg, "--process="):
			process = strings.TrimPrefix(arg, "--process=")
		case strings.HasPrefix(arg, "-"):
			// Global and command flags that take a value, as runc spells them.
			switch arg {
			case "--root", "--log", "--log-format", "--criu", "--console-socket", "--pid-file",
				"--cwd", "--env", "-e", "--user", "-u", "--additional-gids", "-g",
				"--process-label", "--apparmor", "--cap", "-c", "--preserve-fds", "--cgroup":
				next()
			}
		default:
			if command == "" {
				command = arg
			}
		}
	}
	switch command {
	case "create", "run":
		return filepath.Join(bundle, "config.json"), true
	case "exec":
		if process != "" {
			return process, false
		}
	}
	return "", false
}

func dropCapabilities(path string, processField bool, missing map[string]bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	var process map[string]json.RawMessage
	if processField {
		if doc["process"] == nil {
			return nil
		}
		if err := json.Unmarshal(doc["process"], &process); err != nil {
			return err
		}
	} else {
		process = doc
	}
	if process["capabilities"] == nil {
		return nil
	}
	var sets map[string][]string
	if err := json.Unmarshal(process["capabilities"], &sets); err != nil {
		return err
	}
	changed := false
	for name, set := range sets {
		kept := set[:0]
		for _, capability := range set {
			if missing[capability] {
				changed = true
				continue
			}
			kept = append(kept, capability)
		}
		sets[name] = kept
	}
	if !changed {
		return nil
	}
	if process["capabilities"], err = json.Marshal(sets); err != nil {
		return err
	}
	if processField {
		if doc["process"], err = json.Marshal(process); err != nil {
			return err
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}
