package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// configFile is looked for in --dir when --config is not given.
const configFile = "tenantpath.toml"

const fromDefault = "default"

// resolve gives every setting its value: the flag, else the first of its
// environment variables that is set, else the config file, else the
// default. The config file is --config (or TENANTPATH_CONFIG), which must
// exist, or else tenantpath.toml in --dir, if there. A relative dir in the
// file is relative to the file's folder.
func resolve(o *options, p parsed, getenv func(string) string) error {
	o.origin = make(map[string]string, len(settings))
	o.text = make(map[string]string, len(settings))
	path, required := o.config, o.config != ""
	if !required {
		path, required = getenv("TENANTPATH_CONFIG"), getenv("TENANTPATH_CONFIG") != ""
	}
	if !required {
		dir := "."
		if v, ok := p.flags["dir"]; ok {
			dir = v
		} else if v, _ := fromEnv(settingNamed("dir"), getenv); v != "" {
			dir = v
		}
		path = filepath.Join(dir, configFile)
	}
	file, err := readConfig(path, required)
	if err != nil {
		return err
	}
	for _, s := range settings {
		v, from := s.def, fromDefault
		if fv, ok := file[s.key()]; ok {
			v, from = fv, "file "+path
			if s.name == "dir" && !filepath.IsAbs(v) {
				v = filepath.Join(filepath.Dir(path), v)
			}
		}
		if ev, name := fromEnv(s, getenv); name != "" {
			v, from = ev, "env "+name
		}
		if fv, ok := p.flags[s.name]; ok {
			v, from = fv, "flag --"+s.name
		}
		if err := s.set(o, v); err != nil {
			return usageError{fmt.Sprintf("%s (%s): %v", s.name, from, err)}
		}
		o.origin[s.name], o.text[s.name] = from, v
	}
	return nil
}

// fromEnv returns the value of the first of s's environment variables that
// is set to something, and that variable's name.
func fromEnv(s setting, getenv func(string) string) (value, name string) {
	for _, e := range s.env {
		if v := getenv(e); v != "" {
			return v, e
		}
	}
	return "", ""
}

func settingNamed(name string) setting {
	for _, s := range settings {
		if s.name == name {
			return s
		}
	}
	panic("no setting " + name)
}

// readConfig reads a config file into each key's text, as a flag would
// give it. A key that names no setting, or a value of the wrong type, is an
// error: a misspelt key must not be silently ignored.
func readConfig(path string, required bool) (map[string]string, error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError{fmt.Sprintf("config file %s does not exist", path)}
		}
		return nil, usageError{fmt.Sprintf("config file %s: %v", path, err)}
	}
	byKey := make(map[string]setting, len(settings))
	for _, s := range settings {
		byKey[s.key()] = s
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := byKey[k]
		if !ok {
			return nil, usageError{fmt.Sprintf("config file %s: unknown key %q (known keys: %s)", path, k, knownKeys())}
		}
		text, err := configText(s, v)
		if err != nil {
			return nil, usageError{fmt.Sprintf("config file %s: %s: %v", path, k, err)}
		}
		out[k] = text
	}
	return out, nil
}

// configText turns a TOML value into the text a flag would carry.
func configText(s setting, v any) (string, error) {
	switch s.kind {
	case number:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return "", errors.New("must be a whole number")
	case boolean:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", errors.New("must be true or false")
	case list:
		if arr, ok := v.([]any); ok {
			parts := make([]string, len(arr))
			for i, e := range arr {
				str, ok := e.(string)
				if !ok || strings.Contains(str, ",") {
					return "", errors.New("must be an array of names")
				}
				parts[i] = str
			}
			return strings.Join(parts, ","), nil
		}
	}
	if str, ok := v.(string); ok {
		return str, nil
	}
	return "", errors.New("must be a string")
}

func knownKeys() string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key()
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// isSet reports whether a setting was given rather than left at its
// default.
func (o *options) isSet(name string) bool { return o.origin[name] != fromDefault }
