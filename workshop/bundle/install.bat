@echo off
rem Windows: install the course from this bundle (no network needed). Options: see install.py.
setlocal
cd /d "%~dp0"
where py >nul 2>nul
if %errorlevel%==0 (
  py -3.11 install.py %*
) else (
  python install.py %*
)
