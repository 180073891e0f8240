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
#   3. With TRUSTRUN_RELAX_X509_STRICT=1, the default contexts leave out Python 3.13's
#      VERIFY_X509_STRICT (a corporate root that fails those checks), and nothing else: the ones
#      ssl.create_default_context() makes, and the ones urllib3 2.x (requests, pip) makes when its
#      caller names no verify flags, since it copies the flag on 3.13. Flags a caller asks for
#      explicitly are left as asked.
#   4. The next sitecustomize on sys.path (Debian's, a virtualenv's, your own) runs as before.
#   5. Its own bytecode is kept in trustrun's cache even under PYTHONDONTWRITEBYTECODE.
#
# It never raises: a failure here must not break Python's start-up. TRUSTRUN_DEBUG=1 shows what
# it did on stderr.


def _trustrun_main():
    import os
    import sys

    environ = os.environ
    debug = environ.get("TRUSTRUN_DEBUG", "") not in ("", "0")

    def say(message):
        if debug:
            sys.stderr.write("trustrun(sitecustomize): %s\n" % (message,))

    def guarded(what, fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # never break the user's program
            say("%s failed: %s: %s" % (what, type(exc).__name__, exc))

    here = os.path.dirname(os.path.abspath(__file__))
    marker = ".trustrun-python"

    class AfterImport(object):
        """A meta-path finder that runs a function on a module right after it is executed."""

        def __init__(self):
            self.hooks = {}

        def find_spec(self, name, path=None, target=None):
            hook = self.hooks.pop(name, None)
            if hook is None:
                return None
            if not self.hooks:
                try:
                    sys.meta_path.remove(self)
                except ValueError:
                    pass
            spec = None
            for finder in list(sys.meta_path):
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
            loader = getattr(spec, "loader", None)
            original = getattr(loader, "exec_module", None)
            if original is None:
                return spec

            def exec_module(module):
                # The loader may be shared (zipimport): put its own method back first.
                try:
                    del loader.exec_module
                except Exception:
                    pass
                original(module)
                guarded("patching %s" % name, hook, module)

            try:
                loader.exec_module = exec_module
            except Exception as exc:
                say("cannot hook the import of %s: %s" % (name, exc))
            return spec

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

    # 2. truststore and 3. the strict-X.509 relaxation both act on the ssl module.
    use_truststore = environ.get("TRUSTRUN_TRUSTSTORE", "") == "always"
    relax_strict = environ.get("TRUSTRUN_RELAX_X509_STRICT", "") not in ("", "0")

    def inject_truststore(ssl):
        if sys.version_info < (3, 10):
            say("truststore needs Python 3.10 or later; verifying with the bundle only")
            return
        try:
            import truststore
        except ImportError:
            try:
                from pip._vendor import truststore  # pip >= 24.2 vendors it
            except ImportError:
                say("truststore is not installed here; verifying with the bundle only")
                return
        context_class = truststore.SSLContext
        ssl.SSLContext = context_class
        # Modules imported from now on pick the new class up from ssl; these took it already.
        urllib3_ssl = sys.modules.get("urllib3.util.ssl_")
        if urllib3_ssl is not None:
            urllib3_ssl.SSLContext = context_class
        for name in ("requests.adapters", "pip._vendor.requests.adapters"):
            adapters = sys.modules.get(name)
            if getattr(adapters, "_preloaded_ssl_context", None) is not None:
                adapters._preloaded_ssl_context = context_class(ssl.PROTOCOL_TLS_CLIENT)
        say("ssl.SSLContext -> truststore.SSLContext (%s)" % truststore.__name__)

    def relax_x509_strict(ssl):
        flag = getattr(ssl, "VERIFY_X509_STRICT", 0)
        original = ssl.create_default_context
        if not flag or getattr(original, "_trustrun_relaxed", False):
            return

        def create_default_context(*args, **kwargs):
            context = original(*args, **kwargs)
            context.verify_flags &= ~flag
            return context

        create_default_context._trustrun_relaxed = True
        ssl.create_default_context = create_default_context
        if getattr(ssl, "_create_default_https_context", None) is original:
            ssl._create_default_https_context = create_default_context
        say("VERIFY_X509_STRICT left out of ssl.create_default_context()")

    def relax_urllib3(ssl_util):
        import ssl

        flag = getattr(ssl, "VERIFY_X509_STRICT", 0)
        original = getattr(ssl_util, "create_urllib3_context", None)
        if not flag or original is None or getattr(original, "_trustrun_relaxed", False):
            return

        def create_urllib3_context(*args, **kwargs):
            context = original(*args, **kwargs)
            # verify_flags is the seventh parameter; None means "urllib3's defaults".
            if kwargs.get("verify_flags") is None and len(args) < 7:
                context.verify_flags &= ~flag
            return context

        create_urllib3_context._trustrun_relaxed = True
        ssl_util.create_urllib3_context = create_urllib3_context
        package = ssl_util.__name__[: -len(".util.ssl_")]
        # Modules that took the function by name before this hook ran.
        for name in (package + ".util", package + ".connection"):
            module = sys.modules.get(name)
            if getattr(module, "create_urllib3_context", None) is original:
                module.create_urllib3_context = create_urllib3_context
        say("VERIFY_X509_STRICT left out of %s.create_urllib3_context()" % ssl_util.__name__)

    def on_ssl(ssl):
        if use_truststore:
            guarded("truststore", inject_truststore, ssl)
        if relax_strict:
            guarded("relaxing VERIFY_X509_STRICT", relax_x509_strict, ssl)

    if use_truststore or relax_strict:
        when_imported("ssl", on_ssl)
    if relax_strict:
        for name in ("urllib3.util.ssl_", "pip._vendor.urllib3.util.ssl_"):
            when_imported(name, relax_urllib3)

    # 4. the next sitecustomize
    def chain():
        bootstrap = sys.modules.get("_frozen_importlib")
        external = sys.modules.get("_frozen_importlib_external")
        if bootstrap is None or external is None:
            import importlib.machinery as external
            import importlib.util as bootstrap
        # Entries that may hold a sitecustomize, told with a few stat calls: asking PathFinder
        # about every entry would list whole directories (the stdlib's) and cost more than the
        # rest of this file. A zip archive on sys.path is asked directly.
        spec = None
        for entry in sys.path:
            directory = entry or os.curdir
            if os.path.isdir(directory):
                if os.path.abspath(directory) == here:
                    continue
                if os.path.exists(os.path.join(directory, marker)):
                    continue
                if not any(
                    os.path.exists(os.path.join(directory, name))
                    for name in ("sitecustomize.py", "sitecustomize", "sitecustomize.pyc")
                ):
                    continue
            elif not os.path.isfile(directory):
                continue
            spec = external.PathFinder.find_spec("sitecustomize", [entry])
            if spec is not None and spec.loader is not None:
                break
        if spec is None or spec.loader is None:
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

    # 5. Python honours PYTHONDONTWRITEBYTECODE for this file too, and would then compile it at
    # every start (about 3 ms, a quarter of `python -c pass`). The cache directory is ours, not the
    # user's source tree: keep this file's bytecode there regardless.
    def cache_own_bytecode():
        cached = getattr(__spec__, "cached", None)
        if not sys.dont_write_bytecode or not cached or os.path.exists(cached):
            return
        external = sys.modules["_frozen_importlib_external"]
        source_path = __spec__.origin
        stat = os.stat(source_path)
        with open(source_path, "rb") as f:
            code = compile(f.read(), source_path, "exec", dont_inherit=True)
        data = external._code_to_timestamp_pyc(code, stat.st_mtime, stat.st_size)
        os.makedirs(os.path.dirname(cached), mode=0o700, exist_ok=True)
        external._write_atomic(cached, data, 0o600)
        say("cached bytecode in %s" % cached)

    guarded("caching bytecode", cache_own_bytecode)


try:
    _trustrun_main()
except Exception:  # the guard of last resort: start-up goes on
    pass
del _trustrun_main
