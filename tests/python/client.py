"""One HTTPS request with one real client library, as users' code makes it.

    python client.py CLIENT URL

Prints `OK <result>` and exits 0 on success. On failure prints `FAIL <error>` and exits 1 when the
cause is certificate verification (the error users behind a TLS-inspecting proxy see), 3 for any
other error, so a test can tell "not trusted" from "broken for another reason".
Verification is never turned off here: every client runs with its defaults or with certifi.
"""

import sys


def urllib_get(url):
    import urllib.request

    with urllib.request.urlopen(url, timeout=20) as response:
        return response.status


def requests_get(url):
    import requests

    return requests.get(url, timeout=20).status_code


def requests_certifi(url):
    # Code that pins certifi explicitly, as many SDKs do.
    import certifi
    import requests

    return requests.get(url, verify=certifi.where(), timeout=20).status_code


def httpx_get(url):
    import httpx

    return httpx.get(url, timeout=20).status_code


def httpx_no_env(url):
    # trust_env=False: httpx ignores SSL_CERT_FILE and uses certifi.where().
    import httpx

    with httpx.Client(trust_env=False, timeout=20) as client:
        return client.get(url).status_code


def httpx_certifi_context(url):
    import ssl

    import certifi
    import httpx

    context = ssl.create_default_context(cafile=certifi.where())
    return httpx.get(url, verify=context, timeout=20).status_code


def aiohttp_get(url):
    import asyncio

    import aiohttp

    async def main():
        async with aiohttp.ClientSession() as session:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=20)) as response:
                await response.read()
                return response.status

    return asyncio.run(main())


def openai_chat(url):
    from openai import OpenAI

    client = OpenAI(base_url=url + "/v1", api_key="test-key", max_retries=0, timeout=20)
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "ping"}]
    )
    return reply.choices[0].message.content


def litellm_chat(url):
    import litellm

    reply = litellm.completion(
        model="openai/gpt-test",
        api_base=url + "/v1",
        api_key="test-key",
        messages=[{"role": "user", "content": "ping"}],
        max_retries=0,
        timeout=20,
    )
    return reply.choices[0].message.content


CLIENTS = {
    "urllib": urllib_get,
    "requests": requests_get,
    "requests-certifi": requests_certifi,
    "httpx": httpx_get,
    "httpx-no-env": httpx_no_env,
    "httpx-certifi-context": httpx_certifi_context,
    "aiohttp": aiohttp_get,
    "openai": openai_chat,
    "litellm": litellm_chat,
}


def is_certificate_error(exc):
    """Walks the cause chain: openai and litellm wrap the SSL error in 'Connection error.'."""
    import ssl

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def main():
    client, url = sys.argv[1], sys.argv[2]
    try:
        result = CLIENTS[client](url)
    except Exception as exc:
        message = "%s: %s" % (type(exc).__name__, exc)
        if is_certificate_error(exc):
            # Name the root cause too: openai says only "Connection error."
            cause = exc
            while cause.__cause__ or cause.__context__:
                cause = cause.__cause__ or cause.__context__
            print("FAIL %s [cause: %s: %s]" % (message, type(cause).__name__, cause))
            return 1
        print("FAIL %s" % message)
        return 3
    print("OK %s" % (result,))
    return 0


if __name__ == "__main__":
    sys.exit(main())
