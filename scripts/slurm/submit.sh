#!/bin/bash
# submit.sh — submits the hotpath job array (one run per node) and the merge
# job that waits for it (docs/slurm.md). Prints the two job ids.
# usage: submit.sh --nodes N --shared DIR [--partition P] [--exclude LIST]
#                  [--cpus LIST] [--hotpath PATH] [--time T] [-- RUN-OPTIONS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	echo "usage: $0 --nodes N --shared DIR [--partition P] [--exclude LIST] [--cpus LIST]" >&2
	echo "       [--hotpath PATH] [--time T] [-- hotpath run options, e.g. --profile full]" >&2
	[ -n "${1:-}" ] && echo "$0: $1" >&2
	exit 2
}
nodes= shared= part=() exclude=() cpus=auto time=() hotpath=${HOTPATH:-$here/../hotpath}
while [ $# -gt 0 ]; do
	case $1 in
	--nodes) nodes=${2:-}; shift 2 || usage "--nodes needs a number" ;;
	--shared) shared=${2:-}; shift 2 || usage "--shared needs a folder" ;;
	--partition) part=(--partition "${2:-}"); shift 2 || usage "--partition needs a name" ;;
	--exclude) exclude=(--exclude "${2:-}"); shift 2 || usage "--exclude needs a node list" ;;
	--cpus) cpus=${2:-}; shift 2 || usage "--cpus needs a list" ;;
	--hotpath) hotpath=${2:-}; shift 2 || usage "--hotpath needs a path" ;;
	--time) time=(--time "${2:-}"); shift 2 || usage "--time needs a limit" ;;
	--) shift; break ;;
	*) usage "unknown option '$1'" ;;
	esac
done
[[ "$nodes" =~ ^[1-9][0-9]{0,3}$ ]] || usage "--nodes: '$nodes' is not a node count (1 to 9999)"
[ -n "$shared" ] || usage "--shared DIR is required (a folder every node can write)"
[ -x "$hotpath" ] || usage "--hotpath: '$hotpath' is not an executable"
command -v sbatch >/dev/null || { echo "$0: sbatch not found (install slurm-client)" >&2; exit 1; }
mkdir -p "$shared"
shared=$(cd "$shared" && pwd)
hotpath=$(cd "$(dirname "$hotpath")" && pwd)/$(basename "$hotpath")
export HOTPATH=$hotpath HP_SHARED=$shared HP_CPUS=$cpus HP_RUN_ARGS="$*" HP_TASKS=$nodes
run=$(sbatch --parsable --export=ALL --chdir="$shared" --array="0-$((nodes - 1))" \
	"${part[@]}" "${exclude[@]}" "${time[@]}" "$here/run-array.sbatch")
run=${run%%;*}
merge=$(sbatch --parsable --export=ALL --chdir="$shared" --dependency="afterany:$run" \
	--kill-on-invalid-dep=yes "${part[@]}" "${time[@]}" "$here/merge.sbatch")
merge=${merge%%;*}
echo "array job $run ($nodes task(s)), merge job $merge; merged folder: $shared/merged"
