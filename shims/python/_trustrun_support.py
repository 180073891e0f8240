# trustrun's sitecustomize helpers that most processes never need, so they are not part of the
# start-up of every Python: sitecustomize.py loads this file only when something imports ssl with
# truststore or the strict-X.509 relaxation asked for, or once to cache bytecode. Written by
# trustrun from the copy embedded in its binary; edits here are not kept.

import sys


def inject_truststore(ssl, say):
    """ssl.SSLContext becomes truststore's, so Python verifies through the OS as well."""
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


def relax_x509_strict(ssl, say):
    """ssl.create_default_context() without Python 3.13's VERIFY_X509_STRICT, and nothing else."""
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


def relax_urllib3(ssl_util, say):
    """urllib3 2.x copies VERIFY_X509_STRICT into its own default contexts on 3.13: leave it out
    there too, but only where the caller named no verify flags of its own."""
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


def cache_bytecode(sources, say):
    """Writes the bytecode of our own files, which Python would not under PYTHONDONTWRITEBYTECODE:
    the cache directory is trustrun's, not the user's source tree, and compiling sitecustomize at
    every start costs more than the rest of it."""
    import os

    external = sys.modules["_frozen_importlib_external"]
    to_pyc = getattr(external, "_code_to_timestamp_pyc", None)
    if to_pyc is None:  # Python < 3.7: nothing to write with, and no compile wasted
        return
    for source in sources:
        cached = external.cache_from_source(source)
        if os.path.exists(cached):
            continue
        stat = os.stat(source)
        with open(source, "rb") as f:
            code = compile(f.read(), source, "exec", dont_inherit=True)
        data = to_pyc(code, stat.st_mtime, stat.st_size)
        os.makedirs(os.path.dirname(cached), mode=0o700, exist_ok=True)
        external._write_atomic(cached, data, 0o600)
        say("cached bytecode in %s" % cached)
