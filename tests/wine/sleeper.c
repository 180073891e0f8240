/* Test helper for wine: a child that outlives its parent unless something kills it.
 *
 *   sleeper.exe TOKEN SECONDS          sleeps SECONDS, then exits 0
 *   sleeper.exe parent TOKEN SECONDS   starts `sleeper.exe TOKEN SECONDS` without a Job Object
 *                                      and waits for it: the control parent
 *
 * TOKEN only makes the processes findable in the host's process list (/proc/PID/cmdline).
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int wmain(int argc, wchar_t **argv)
{
    if (argc == 4 && wcscmp(argv[1], L"parent") == 0) {
        wchar_t self[MAX_PATH], line[2 * MAX_PATH];
        GetModuleFileNameW(NULL, self, MAX_PATH);
        _snwprintf(line, 2 * MAX_PATH, L"\"%ls\" %ls %ls", self, argv[2], argv[3]);
        STARTUPINFOW si = { sizeof si };
        PROCESS_INFORMATION pi;
        if (!CreateProcessW(self, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
            return 1;
        WaitForSingleObject(pi.hProcess, INFINITE);
        return 0;
    }
    if (argc != 3)
        return 2;
    Sleep((DWORD)_wtoi(argv[2]) * 1000);
    return 0;
}
