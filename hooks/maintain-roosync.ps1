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

.EXAMPLE
  powershell -NoProfile -ExecutionPolicy Bypass -File maintain-roosync.ps1 -Task cleanup -DryRun
#>
[CmdletBinding()]
param(
  [ValidateSet('health', 'update', 'cleanup', 'all')]
  [string]$Task = 'all',
  [switch]$DryRun,
  [switch]$Json,
  [string]$SharedState
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

& $node @argv
$code = $LASTEXITCODE
$mapped = if ($ExitCodes.ContainsKey($code)) { $ExitCodes[$code] } else { 1 }
if (-not $Json) {
  $meaning = if ($Meanings.ContainsKey($code)) { $Meanings[$code] } else { "unexpected exit code $code" }
  Write-Host "maintain-roosync -Task ${Task}: $meaning"
}
exit $mapped
