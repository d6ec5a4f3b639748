<#
.SYNOPSIS
  RooSync maintenance for Windows Task Scheduler: runs one roosync-maint task group and maps its exit code.

.DESCRIPTION
  The entry point the original RooSync plan named. It calls `roosync-maint run --task <group>` with the
  shared state and machine id RooSync already uses (ROOSYNC_SHARED_PATH, ROOSYNC_MACHINE_ID, or the .env),
  and exits with a code Task Scheduler can show: 0 done (or skipped because another run was busy),
  1 a task failed, 2 the set-up is wrong (nothing was done).

.PARAMETER Task
  health | update | cleanup | all

.PARAMETER NoSync
  A plain shared folder (Google Drive), not a git clone: no pull, push or git lease.

.PARAMETER Leader
  With -NoSync: act as the fleet's leader (fleet tasks: archive, purge, rotation). Only one machine should.

.PARAMETER MachineConfig
  This machine's own config (commands, local paths, hosts); default %APPDATA%\roosync-maint\machine.jsonc.

.EXAMPLE
  powershell -NoProfile -ExecutionPolicy Bypass -File maintain-roosync.ps1 -Task cleanup -DryRun

.EXAMPLE
  powershell -NoProfile -File maintain-roosync.ps1 -Task all -NoSync -SharedState 'G:\Mon Drive\Synchronisation\RooSync\.shared-state'
#>
[CmdletBinding()]
param(
  [ValidateSet('health', 'update', 'cleanup', 'all')]
  [string]$Task = 'all',
  [switch]$DryRun,
  [switch]$Json,
  [switch]$NoSync,
  [switch]$Leader,
  [string]$SharedState,
  [string]$MachineConfig
)

# -Task value -> roosync-maint's --task group
$Groups = @{
  'health'  = 'health'
  'update'  = 'update'
  'cleanup' = 'cleanup'
  'all'     = 'all'
}

# roosync-maint's exit code -> this script's exit code (a busy machine is not a failed schedule)
$ExitCodes = @{
  0 = 0  # done
  1 = 1  # a task failed
  2 = 2  # usage, config or set-up error: nothing done
  3 = 0  # busy: another run holds this machine; it does the work
}

$Meanings = @{
  0 = 'done'
  1 = 'a task failed'
  2 = 'usage, config or set-up error: nothing was done'
  3 = 'skipped: another roosync-maint run holds this machine'
}

$node = if ($env:ROOSYNC_MAINT_NODE) { $env:ROOSYNC_MAINT_NODE } else { 'node' }
$cli = Join-Path (Split-Path -Parent $PSScriptRoot) 'dist\cli\main.js'
$argv = @($cli, 'run', '--task', $Groups[$Task])
if ($DryRun) { $argv += '--dry-run' }
if ($Json) { $argv += '--json' }
if ($SharedState) { $argv += @('--shared-state', $SharedState) }
if ($MachineConfig) { $argv += @('--machine-config', $MachineConfig) }
if ($NoSync) { $argv += '--no-sync' }
if ($Leader) {
  if (-not $NoSync) { Write-Host 'maintain-roosync: -Leader needs -NoSync (with sync on, the lease decides who leads)'; exit 2 }
  $argv += '--leader'
}

& $node @argv
$code = $LASTEXITCODE
$mapped = if ($ExitCodes.ContainsKey($code)) { $ExitCodes[$code] } else { 1 }
if (-not $Json) {
  $meaning = if ($Meanings.ContainsKey($code)) { $Meanings[$code] } else { "unexpected exit code $code" }
  Write-Host "maintain-roosync -Task ${Task}: $meaning"
}
exit $mapped
