//! Our sitecustomize's own robustness: how it hooks an import (it wraps the spec's loader and
//! leaves the loader object alone) and its guard of last resort (silent, but says what failed
//! under TRUSTRUN_DEBUG=1).

use crate::common::*;

/// A loader that is a class (classmethods, as the import system's own BuiltinImporter and
/// FrozenImporter are): hooking `certifi` through it must leave the class as it was, so the next
/// module it loads still loads. Swapping `exec_module` on the loader object and deleting it
/// afterwards deleted the class's own method.
#[test]
fn a_loader_that_is_a_class_keeps_its_exec_module() {
    let code = r#"
import importlib.util, os, sys

class ClassLoader:
    @classmethod
    def create_module(cls, spec):
        return None

    @classmethod
    def exec_module(cls, module):
        module.where = lambda: "the class loader's own"
        module.contents = lambda: ""

class Finder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name in ("certifi", "second_module"):
            return importlib.util.spec_from_loader(name, ClassLoader)
        return None

# After trustrun's import hook (first on sys.meta_path), before the path finder.
assert type(sys.meta_path[0]).__name__ == "AfterImport", sys.meta_path
sys.meta_path.insert(1, Finder)
import certifi
print("certifi redirected:", certifi.where() == os.environ["TRUSTRUN_BUNDLE"])
print("loader intact:", "exec_module" in ClassLoader.__dict__)
import second_module
print("second module:", second_module.where())
print("spec loader restored:", certifi.__spec__.loader is ClassLoader)
"#;
    let world = World::new();
    let out = world
        .trustrun()
        .arg(venv_python())
        .args(["-c", code])
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "certifi redirected: True\nloader intact: True\nsecond module: the class loader's own\n\
         spec loader restored: True\n",
        "{text}"
    );
}

/// A failure outside every inner guard (here: `sys.meta_path` made a tuple by earlier start-up
/// code, so the import hook cannot be inserted) lets Python start, silently, and is named under
/// TRUSTRUN_DEBUG=1.
#[test]
fn the_last_guard_says_what_failed_under_debug() {
    let world = World::new();
    // -S: site does not import our sitecustomize; the code below does, after breaking meta_path.
    let code =
        "import sys; sys.meta_path = tuple(sys.meta_path); import sitecustomize; print('started')";
    let run = |debug: &str| {
        world
            .trustrun()
            .env("TRUSTRUN_DEBUG", debug)
            .arg(venv_python())
            .args(["-S", "-c", code])
            .output()
            .unwrap()
    };
    let quiet = run("0");
    assert!(quiet.status.success(), "{}", output_text(&quiet));
    assert_eq!(String::from_utf8_lossy(&quiet.stdout), "started\n");
    assert!(quiet.stderr.is_empty(), "{}", output_text(&quiet));

    let told = run("1");
    let text = output_text(&told);
    assert!(told.status.success(), "{text}");
    assert_eq!(String::from_utf8_lossy(&told.stdout), "started\n");
    assert!(
        text.contains("trustrun(sitecustomize): start-up failed: AttributeError:"),
        "{text}"
    );
    assert!(!text.contains("Traceback"), "{text}");
}
