# The real-model job's eval settings (docs/real-model.md#sizes-and-grids), sourced by
# scripts/demo.sh and scripts/bench/real_eval_bench.sh so that the benchmark times the demo's grid.
# K from the reference code's grids (configs/reference_grids.json); delta from the low end of its
# range and below it, because in a first run with the reference deltas (4-49 for heads) nearly
# every steered point turned this model's answers into nonsense (that run is reported in
# docs/real-model.md). The chat-templated tasks put the answer right after the assistant header.
sep=(--separator "")
grid_head=(--top-k 1,4,10 --delta 0.5,2,4)
grid_neuron=(--top-k 10,100,500 --delta 1,4)
grid_hidden=(--top-k 2,8,20 --delta 0.5,2)
baselines_head=(--baselines none,fixed,fixed-dir,iti,caa --iti-top-k 8,48 --iti-alpha 5,15 --caa-layers 7,15,22
                --caa-multipliers 4,16)
baselines_site=(--baselines none,fixed)
