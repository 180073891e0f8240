@echo off
rem trustrun shim: made by `trustrun shim install` where no link or copy of trustrun.exe could be made.
"{trustrun}" -- {name} %*
exit /b %ERRORLEVEL%
