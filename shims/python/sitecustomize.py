# trustrun's sitecustomize: makes this Python trust the bundle trustrun built (the OS trust store,
# Mozilla's roots and the CA files you named). trustrun puts this directory first on PYTHONPATH
# and writes this file from the copy embedded in its binary; edits here are not kept.
#
# What it does, in order:
#   1. certifi.where() and certifi.contents() give the bundle, so code that hard-codes certifi
#      trusts the corporate root too. certifi is never imported here (its import alone costs more
#      than starting Python): a finder patches it when something imports it, or in place when a
#      .pth file imported it already.
#   2. With TRUSTRUN_TRUSTSTORE=always, ssl.SSLContext becomes truststore's (verify through the
#      OS), done when something first imports ssl, so a process without TLS pays nothing.
#   3. With TRUSTRUN_RELAX_X509_STRICT=1 (exactly that: any other value is off), the default
#      contexts leave out Python 3.13's VERIFY_X509_STRICT (a corporate root that fails those
#      checks), and nothing else: the ones ssl.create_default_context() makes, and the ones
#      urllib3 2.x (requests, pip) makes when its caller names no verify flags, since it copies
#      the flag on 3.13. Flags a caller asks for explicitly are left as asked.
#   4. The next sitecustomize on sys.path (Debian's, a virtualenv's, your own) runs as before.
#   5. Our bytecode is kept in trustrun's cache even under PYTHONDONTWRITEBYTECODE.
#
# This file runs at the start of every Python, so it is kept small: the code for 2, 3 and 5 lives
# in _trustrun_support.py beside it, loaded only when needed. It never raises: a failure here must
# not break Python's start-up. TRUSTRUN_DEBUG=1 (exactly) shows what it did on stderr.


def _trustrun_main():
    import os
    import sys

    environ = os.environ
    # Booleans: trustrun hands the child "1" or "0" and nothing else; any other value (a caller's
    # own spelling, "false", "yes") counts as off, so a strict check is never dropped by mistake.
    debug = environ.get("TRUSTRUN_DEBUG", "") == "1"
    here = os.path.dirname(__spec__.origin)
    marker = ".trustrun-python"
    external = sys.modules["_frozen_importlib_external"]
    bootstrap = sys.modules["_frozen_importlib"]

    def say(message):
        if debug:
            sys.stderr.write("trustrun(sitecustomize): %s\n" % (message,))

    def guarded(what, fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # never break the user's program
            say("%s failed: %s: %s" % (what, type(exc).__name__, exc))

    def support():
        module = sys.modules.get("_trustrun_support")
        if module is None:
            # From our own directory, whatever sys.path has become since start-up.
            spec = external.PathFinder.find_spec("_trustrun_support", [here])
            module = bootstrap.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules["_trustrun_support"] = module
        return module

    class AfterImport(object):
        """A meta-path finder that runs a function on a module right after it is executed."""

        def __init__(self):
            self.hooks = {}

        def find_spec(self, name, path=None, target=None):
            # The hook stays until the module has actually run: importlib.util.find_spec() asks
            # without importing, and the import proper asks again.
            if name not in self.hooks:
                return None
            spec = None
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
            loader = getattr(spec, "loader", None)
            if getattr(loader, "exec_module", None) is None or isinstance(loader, HookedLoader):
                return spec
            try:
                spec.loader = HookedLoader(loader, name, self)
            except Exception as exc:
                say("cannot hook the import of %s: %s" % (name, exc))
            return spec

    class HookedLoader(object):
        """The spec's loader, wrapped for one import: runs the hook after the module executed.
        The loader object itself is left alone (it may be shared, as zipimport's is, or a class
        whose methods are classmethods), and the module gets its own loader back."""

        def __init__(self, loader, name, finder):
            self.loader = loader
            self.name = name
            self.finder = finder

        def create_module(self, spec):
            create = getattr(self.loader, "create_module", None)
            return create(spec) if create is not None else None

        def exec_module(self, module):
            # The module and its spec name the real loader from here on.
            try:
                if getattr(module.__spec__, "loader", None) is self:
                    module.__spec__.loader = self.loader
                if getattr(module, "__loader__", None) is self:
                    module.__loader__ = self.loader
            except Exception:
                pass
            self.loader.exec_module(module)
            hooks = self.finder.hooks
            hook = hooks.pop(self.name, None)
            if not hooks:
                try:
                    sys.meta_path.remove(self.finder)
                except ValueError:
                    pass
            if hook is not None:
                guarded("patching %s" % self.name, hook, module)

        def __getattr__(self, attribute):
            # Everything else a loader answers (get_resource_reader, is_package, get_code...).
            return getattr(self.loader, attribute)

    after_import = AfterImport()

    def when_imported(name, hook):
        module = sys.modules.get(name)
        if module is not None:
            guarded("patching %s" % name, hook, module)
            return
        after_import.hooks[name] = hook
        if after_import not in sys.meta_path:
            sys.meta_path.insert(0, after_import)

    # 1. certifi
    bundle = environ.get("TRUSTRUN_BUNDLE", "")
    if bundle and os.path.isfile(bundle):

        def where():
            return bundle

        def contents():
            with open(bundle, encoding="ascii") as f:
                return f.read()

        def patch_certifi(certifi):
            core = sys.modules.get("certifi.core")
            for module in (certifi, core):
                if module is not None:
                    module.where = where
                    module.contents = contents
            say("certifi.where() -> %s" % bundle)

        when_imported("certifi", patch_certifi)
    elif bundle:
        # Fail safe: certifi keeps its own roots rather than pointing at nothing.
        say("TRUSTRUN_BUNDLE=%s does not exist; certifi left alone" % bundle)

    # 2. truststore and 3. the strict-X.509 relaxation, when ssl (or urllib3) is imported.
    use_truststore = environ.get("TRUSTRUN_TRUSTSTORE", "") == "always"
    relax_value = environ.get("TRUSTRUN_RELAX_X509_STRICT", "")
    relax_strict = relax_value == "1"
    if relax_value not in ("", "0", "1"):
        say(
            "TRUSTRUN_RELAX_X509_STRICT=%r is not 1 (trustrun writes 1 or 0): "
            "VERIFY_X509_STRICT stays on" % (relax_value,)
        )
    if use_truststore or relax_strict:

        def on_ssl(ssl):
            helpers = support()
            if use_truststore:
                guarded("truststore", helpers.inject_truststore, ssl, say)
            if relax_strict:
                guarded("relaxing VERIFY_X509_STRICT", helpers.relax_x509_strict, ssl, say)

        when_imported("ssl", on_ssl)
    if relax_strict:

        def on_urllib3(ssl_util):
            support().relax_urllib3(ssl_util, say)

        for name in ("urllib3.util.ssl_", "pip._vendor.urllib3.util.ssl_"):
            when_imported(name, on_urllib3)

    # 4. The next sitecustomize. An entry may hold one only if its directory lists one: the
    # listings Python's import system already made at this start-up answer that without a system
    # call; other entries are asked with a stat or two. Asking PathFinder about every entry would
    # list whole directories (the stdlib's). Entries holding our marker (this directory, another
    # trustrun's) are skipped; a zip archive on sys.path is asked directly.
    names = ("sitecustomize.py", "sitecustomize", "sitecustomize.pyc")

    def may_hold_sitecustomize(entry):
        listing = getattr(sys.path_importer_cache.get(entry), "_path_cache", None)
        if type(listing) is set and listing:
            return marker not in listing and any(n in listing for n in names)
        directory = entry or os.curdir
        if os.path.isdir(directory):
            join = os.path.join
            exists = os.path.exists
            if not (exists(join(directory, names[0])) or exists(join(directory, names[1]))):
                return False
            return not exists(join(directory, marker))
        return os.path.isfile(directory)

    def chain():
        spec = None
        for entry in sys.path:
            if not may_hold_sitecustomize(entry):
                continue
            spec = external.PathFinder.find_spec("sitecustomize", [entry])
            if spec is not None and spec.loader is not None:
                break
            spec = None
        if spec is None:
            return
        module = bootstrap.module_from_spec(spec)
        ours = sys.modules.get("sitecustomize")
        sys.modules["sitecustomize"] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            # What Python itself prints for a failing sitecustomize: the error is theirs.
            sys.modules["sitecustomize"] = ours
            if sys.flags.verbose:
                sys.excepthook(*sys.exc_info())
            else:
                sys.stderr.write(
                    "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                    "%s: %s\n" % (type(exc).__name__, exc)
                )
            return
        say("chained to %s" % spec.origin)

    guarded("chaining to the next sitecustomize", chain)

    # 5. Bytecode, once, when Python would not write it.
    if sys.dont_write_bytecode and not os.path.exists(__spec__.cached or here):
        sources = [__spec__.origin, os.path.join(here, "_trustrun_support.py")]
        guarded("caching bytecode", lambda: support().cache_bytecode(sources, say))


def _trustrun_failed(exc):
    # Quiet unless asked: a failure here must not break or clutter the user's program.
    import os
    import sys

    if os.environ.get("TRUSTRUN_DEBUG", "") == "1":
        sys.stderr.write(
            "trustrun(sitecustomize): start-up failed: %s: %s\n" % (type(exc).__name__, exc)
        )


try:
    _trustrun_main()
except Exception as _trustrun_exc:  # the guard of last resort: start-up goes on
    try:
        _trustrun_failed(_trustrun_exc)
    except Exception:
        pass
del _trustrun_main, _trustrun_failed
