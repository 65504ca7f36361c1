; NSIS script: wraps the one-folder Windows bundle (dist\RadiAI, built by PyInstaller) into
; RadiAI-<version>-setup.exe. Built on Linux by packaging/windows/build-on-linux.sh:
;   makensis -DVERSION=0.1.0 -DBUNDLE=/path/to/dist/RadiAI -DOUTFILE=/path/to/setup.exe radiai.nsi
; Per-user install (no administrator rights on a reading-room PC), no network at install or run
; time. The uninstaller keeps the user's history (%LOCALAPPDATA%\RadiAI) unless asked.

; A 64-bit installer: RadiAI is 64-bit only, and Debian's wine64 runs no 32-bit programs.
Target amd64-unicode
SetCompressor /SOLID lzma
SetCompressorDictSize 64

!ifndef VERSION
  !error "VERSION is not defined (makensis -DVERSION=...)"
!endif
!ifndef BUNDLE
  !error "BUNDLE is not defined (makensis -DBUNDLE=path\to\dist\RadiAI)"
!endif
!ifndef OUTFILE
  !define OUTFILE "RadiAI-${VERSION}-setup.exe"
!endif

!include "MUI2.nsh"

!define APPKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\RadiAI"

Name "RadiAI ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\RadiAI"
InstallDirRegKey HKCU "Software\RadiAI\Install" "Dir"
RequestExecutionLevel user
ShowInstDetails nevershow
BrandingText "RadiAI ${VERSION} - decision support, not a diagnosis"

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_FUNCTION OpenSamples
!define MUI_FINISHPAGE_RUN_TEXT "Open RadiAI on the sample radiographs"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Korean"

Function OpenSamples
  Exec '"$INSTDIR\RadiAI.exe" "$INSTDIR\_internal\samples"'
FunctionEnd

Section "RadiAI (required)" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  RMDir /r "$INSTDIR\_internal"  ; an older version's files go before the new ones land
  File /r "${BUNDLE}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\RadiAI\Install" "Dir" "$INSTDIR"
  WriteRegStr HKCU "${APPKEY}" "DisplayName" "RadiAI"
  WriteRegStr HKCU "${APPKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${APPKEY}" "Publisher" "RadiAI"
  WriteRegStr HKCU "${APPKEY}" "DisplayIcon" "$INSTDIR\RadiAI.exe"
  WriteRegStr HKCU "${APPKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${APPKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${APPKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${APPKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${APPKEY}" "NoRepair" 1
SectionEnd

Section "Start-menu entries" SecMenu
  CreateDirectory "$SMPROGRAMS\RadiAI"
  CreateShortcut "$SMPROGRAMS\RadiAI\RadiAI.lnk" "$INSTDIR\RadiAI.exe"
  CreateShortcut "$SMPROGRAMS\RadiAI\RadiAI sample radiographs.lnk" "$INSTDIR\RadiAI.exe" '"$INSTDIR\_internal\samples"'
  CreateShortcut "$SMPROGRAMS\RadiAI\Uninstall RadiAI.lnk" "$INSTDIR\uninstall.exe"
SectionEnd

Section "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\RadiAI.lnk" "$INSTDIR\RadiAI.exe"
SectionEnd

Section /o "Open .dcm files with RadiAI" SecDicom
  WriteRegStr HKCU "Software\Classes\.dcm\OpenWithProgids" "RadiAI.dcm" ""
  WriteRegStr HKCU "Software\Classes\RadiAI.dcm" "" "DICOM image (RadiAI)"
  WriteRegStr HKCU "Software\Classes\RadiAI.dcm\shell\open\command" "" '"$INSTDIR\RadiAI.exe" "%1"'
  WriteRegStr HKCU "Software\RadiAI\Install" "DicomAssociation" "1"
SectionEnd

Section "un.RadiAI" UnSecApp
  SectionIn RO
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\RadiAI.exe"
  Delete "$INSTDIR\radiai-cli.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir /r "$SMPROGRAMS\RadiAI"
  Delete "$DESKTOP\RadiAI.lnk"
  DeleteRegKey HKCU "Software\Classes\RadiAI.dcm"
  DeleteRegValue HKCU "Software\Classes\.dcm\OpenWithProgids" "RadiAI.dcm"
  DeleteRegKey HKCU "${APPKEY}"
  DeleteRegKey HKCU "Software\RadiAI\Install"
SectionEnd

; Off by default (and in a silent uninstall): the history of analyses, logs and settings stay.
Section /o "un.Also delete my history, logs and settings" UnSecData
  RMDir /r "$LOCALAPPDATA\RadiAI"
  DeleteRegKey HKCU "Software\RadiAI"
SectionEnd
