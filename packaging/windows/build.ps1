# Builds the netloom installer for Windows x64 from a finished release build.
#   dist\netloom-VERSION-windows-x64-setup.exe  (Inno Setup 6: choco install innosetup)
# The stage holds netloom.exe with libtorch's DLLs beside it (torch_cpu, c10, ... from the PyPI
# wheel torch==2.11.0, CPU on Windows), the icon, the examples and the licences.
# Usage (PowerShell, after `cargo build --release` with LIBTORCH set to the wheel's torch folder):
#   packaging\windows\build.ps1
$ErrorActionPreference = "Stop"
$Root = Resolve-Path "$PSScriptRoot\..\.."
if (-not $env:LIBTORCH) { throw "LIBTORCH is not set: point it at site-packages\torch of torch==2.11.0" }
$Version = (Select-String -Path "$Root\Cargo.toml" -Pattern '^version = "(.*)"' | Select-Object -First 1).Matches.Groups[1].Value
$Stage = Join-Path $env:TEMP "netloom-stage"
if (Test-Path $Stage) { Remove-Item -Recurse -Force $Stage }
New-Item -ItemType Directory -Force "$Stage\examples", "$Stage\licences" | Out-Null
Copy-Item "$Root\target\release\netloom.exe" $Stage
# Every DLL of the wheel's torch\lib but the CUDA ones (none in PyPI's Windows wheel; a CUDA
# torch from download.pytorch.org is found at run time through NETLOOM_LIBTORCH_CUDA).
Get-ChildItem "$env:LIBTORCH\lib\*.dll" | Where-Object { $_.Name -notmatch 'cuda|cudnn|cublas|nccl' } |
    ForEach-Object { Copy-Item $_.FullName $Stage }
Copy-Item "$Root\assets\icons\netloom.ico" $Stage
Copy-Item "$Root\examples\*" "$Stage\examples" -Recurse
Copy-Item "$Root\LICENSE" "$Stage\licences\netloom-LICENSE.txt"
Copy-Item "$Root\assets\fashion-mnist\LICENSE" "$Stage\licences\fashion-mnist-LICENSE.txt"
Copy-Item "$Root\assets\licences\pytorch-LICENSE.txt" "$Stage\licences\pytorch-LICENSE.txt"
& "$Stage\netloom.exe" --version
if ($LASTEXITCODE -ne 0) { throw "the staged netloom.exe does not start" }
$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
& $Iscc "/DVersion=$Version" "/DStage=$Stage" "$PSScriptRoot\netloom.iss"
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }
Get-Item "$Root\dist\netloom-$Version-windows-x64-setup.exe" | ForEach-Object { "package: $($_.Name) $([math]::Round($_.Length / 1MB)) MB" }
