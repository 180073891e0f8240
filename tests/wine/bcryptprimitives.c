/* ProcessPrng for wine 8, which lacks bcryptprimitives.dll.
 *
 * Rust's std (since 1.78) gets random bytes (HashMap seeds) from ProcessPrng in
 * bcryptprimitives.dll; without it every Rust program fails to start under wine 8. This DLL is
 * built by the wine test helper (tests/wine/mod.rs) and .ci/run into the test prefix's system32.
 * SystemFunction036 (RtlGenRandom, advapi32) is wine's own random source.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
