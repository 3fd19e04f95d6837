; Inno Setup script for netloom on Windows (x64). Build with packaging/windows/build.ps1, which
; stages netloom.exe with the libtorch DLLs beside it (Windows has no rpath; the loader looks
; in the executable's folder first) and runs ISCC. Can't run on the project's Linux machines;
; the release workflow runs it on a Windows runner.
#ifndef Version
  #define Version "0.0.0"
#endif
#ifndef Stage
  #define Stage "stage"
#endif

[Setup]
AppId={{6C7B3F52-3E0B-4E55-9E0B-6E65746C6F6F}
AppName=netloom
AppVersion={#Version}
AppPublisher=netloom developers
DefaultDirName={autopf}\netloom
DefaultGroupName=netloom
UninstallDisplayIcon={app}\netloom.exe
SetupIconFile=..\..\assets\icons\netloom.ico
LicenseFile=..\..\LICENSE
OutputBaseFilename=netloom-{#Version}-windows-x64-setup
OutputDir=..\..\dist
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog

[Files]
Source: "{#Stage}\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\netloom"; Filename: "{app}\netloom.exe"; IconFilename: "{app}\netloom.ico"
Name: "{autodesktop}\netloom"; Filename: "{app}\netloom.exe"; IconFilename: "{app}\netloom.ico"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\netloom.exe"; Description: "Start netloom"; Flags: nowait postinstall skipifsilent
