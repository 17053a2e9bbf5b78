#!/usr/bin/env bash
# Benchmark 2: the 3-step pipeline of benchmark 1 under cwltool (--disable-pull, the local
# image) and Snakemake (rules calling docker run), against replay-runner's rerun and the raw
# docker script, all measured in this run.
source "$(dirname "$0")/lib.sh"
bench_setup cwltool snakemake
work="$out_root/02"
rm -rf "$work" && mkdir -p "$work/smk"
p="$bench_dir/pipeline"
csv="$work/readings.csv"
bash "$p/make-csv.sh" "$csv"
cp "$csv" "$work/smk/readings.csv"
cat >"$work/job.yml" <<YML
readings: { class: File, path: $csv }
normalise: { class: File, path: $p/normalise.py }
aggregate: { class: File, path: $p/aggregate.py }
render: { class: File, path: $p/render.py }
YML

log "recording the pipeline (PostgreSQL)"
pg_url=$(fresh_database bench_02)
home="$work/home"
fig=$(
  export REPLAY_HOME="$home" DATABASE_URL="$pg_url"
  raw=$(cli add "$csv")
  clean=$(cli run transform --input "$raw" --code "$p/normalise.py")
  stats=$(cli run analysis --input "$clean" --code "$p/aggregate.py")
  cli run render --input "$stats" --code "$p/render.py"
)

log "checking the peers produce the same figure"
cwltool --quiet --disable-pull --outdir "$work/cwl-check" "$bench_dir/peers/pipeline.cwl" "$work/job.yml" >/dev/null
snakemake --quiet --cores 1 --forceall -d "$work/smk" -s "$bench_dir/peers/Snakefile" --config "code=$p" >/dev/null 2>&1
cmp "$work/cwl-check/output" "$work/smk/figure.svg"

measure 02-peers \
  --warmup 1 \
  -n raw-docker "bash $p/raw-docker.sh $work/raw $csv" \
  -n rerun-postgres "REPLAY_HOME=$home DATABASE_URL='$pg_url' node $cli_js rerun $fig" \
  -n snakemake "snakemake --quiet --cores 1 --forceall -d $work/smk -s $bench_dir/peers/Snakefile --config code=$p" \
  -n cwltool "cwltool --quiet --disable-pull --outdir $work/cwl-out $bench_dir/peers/pipeline.cwl $work/job.yml"

node "$bench_dir/summarise.mjs" "$out_root/02-peers.json" | tee "$out_root/02-peers.md"
