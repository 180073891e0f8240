/* Test helper for wine: adds a DER certificate to a Windows system store, as IT's Group Policy
 * does on a corporate machine.
 *
 *   addroot.exe FILE.der          adds it to LOCAL_MACHINE_GROUP_POLICY \ Root
 *
 * Exit 0 when the certificate is in the store afterwards; otherwise one line on stderr, exit 1.
 */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>

static HCERTSTORE open_store(void)
{
    HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                                     CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, L"Root");
    if (!store)
        fwprintf(stderr, L"addroot: cannot open the Group Policy Root store: error %lu\n", GetLastError());
    return store;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc != 2) {
        fwprintf(stderr, L"usage: addroot.exe FILE.der\n");
        return 2;
    }
    FILE *f = _wfopen(argv[1], L"rb");
    if (!f) {
        fwprintf(stderr, L"addroot: cannot open %ls\n", argv[1]);
        return 1;
    }
    static BYTE der[65536];
    size_t n = fread(der, 1, sizeof der, f);
    fclose(f);
    HCERTSTORE store = open_store();
    if (!store)
        return 1;
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, (DWORD)n,
                                          CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
        fwprintf(stderr, L"addroot: cannot add the certificate: error %lu\n", GetLastError());
        CertCloseStore(store, 0);
        return 1;
    }
    CertCloseStore(store, 0);
    return 0;
}
