' roosync-maint: the Windows Task Scheduler's launcher. Task Scheduler starts wscript.exe, a program with no
' console, and this script starts the real command hidden (window style 0), waits for it, appends its stderr to
' the log file named first, and ends with the command's exit code. Without it a console window flashes at
' every tick. Usage: wscript.exe //B //Nologo run-hidden.vbs <log file> <program> [arguments...]
Option Explicit
Dim shell, logFile, line, i
Set shell = CreateObject("WScript.Shell")
logFile = WScript.Arguments(0)
line = ""
For i = 1 To WScript.Arguments.Count - 1
  ' Windows file names cannot hold a double quote: quoting each argument is enough
  line = line & " """ & WScript.Arguments(i) & """"
Next
' stdout goes nowhere (a scheduled run prints for no one), stderr to the log
WScript.Quit shell.Run("cmd.exe /d /s /c """ & Trim(line) & " >NUL 2>>""" & logFile & """""", 0, True)
