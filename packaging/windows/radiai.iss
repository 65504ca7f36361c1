; Inno Setup script: wraps the one-folder bundle (dist\RadiAI, built by PyInstaller on Windows)
; into RadiAI-<version>-setup.exe. Build with:  iscc /DMyAppVersion=0.1.0 packaging\windows\radiai.iss
; (the version is in dist\VERSION, written by build_installer.spec). Installs per user by default
; (no administrator rights needed on a reading-room PC); no network access at install or run time.

#ifndef MyAppVersion
  #define MyAppVersion "0.0.0"
#endif

[Setup]
AppId={{6E1A3C52-3F0B-4C1D-9E55-52A1D1C0B7A3}
AppName=RadiAI
AppVersion={#MyAppVersion}
AppPublisher=RadiAI
DefaultDirName={autopf}\RadiAI
DefaultGroupName=RadiAI
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename=RadiAI-{#MyAppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
ArchitecturesAllowed=x64compatible
UninstallDisplayIcon={app}\RadiAI.exe

[Files]
Source: "..\..\dist\RadiAI\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\RadiAI"; Filename: "{app}\RadiAI.exe"
Name: "{group}\RadiAI sample radiographs"; Filename: "{app}\RadiAI.exe"; Parameters: """{app}\_internal\samples"""
Name: "{autodesktop}\RadiAI"; Filename: "{app}\RadiAI.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\RadiAI.exe"; Parameters: """{app}\_internal\samples"""; Description: "Open RadiAI on the sample radiographs"; Flags: nowait postinstall skipifsilent
