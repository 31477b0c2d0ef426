"""``make gpu-check``: run the study's training code on this machine's accelerator and measure it.

One command, one JSON (``gpu_check.json``), a short text summary (``gpu_check.txt``) and a cost
model (``cost_model.json``), written to ``$OUT`` if set, else ``results/gpu-check/``. Parts, in
the order they run, each through ``datalaws train`` exactly as the study starts it:

  correctness  one size trained in bf16 and in fp32 from the same seed: their 10-step mean loss
               curves and final validation losses must agree within ``CURVE_TOL``/``VAL_TOL``;
  resume       the bf16 run again, stopped by SIGURG (SLURM's warning) a third of the way in, then
               rerun: it must resume and end where the uninterrupted run ended (``RESUME_TOL``);
  throughput   each ladder size at the study's batch and context, after warm-up: tokens/s, MFU
               against the device's dense bf16 peak (``peaks.py``), peak memory beside the
               planner's estimate; sizes in ladder order, up to the largest that fits;
  packing      several copies of the smallest size at once on one device: aggregate tokens/s
               against one alone (what packing small runs would gain);
  cost_model   the measured step times fitted (``costmodel.py``) and saved; the study grid's
               device-hours from it beside those from the assumed MFU;
  grid         the tiny study on the GPU, end to end (``snakemake --profile profiles/local`` with
               config/tiny-gpu.yaml, laws and report); on a CPU only its dry run.

The whole check keeps to a time budget (``--time-limit-min``, 8 by default): a part that no
longer fits is skipped, and a run that overruns is stopped, and the JSON says so. Exit status 1
if any part failed; skipped parts do not fail the check.

Modules: ``cli`` (arguments, order of parts, outputs), ``context`` (the shared set-up and
tolerances), ``runs`` (corpus, processes, metrics), ``parts`` (correctness, resume, throughput,
packing), ``cost`` (the cost model and the study grid's device-hours), ``grid`` (the tiny study),
``summary`` (the text summary).
"""
