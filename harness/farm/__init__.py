"""Farms: several boards on one host, each pytest-xdist worker (or `hil bench`) on a board of its own.

hardware_map  the lab's boards, read from YAML and checked against hardware-map.schema.json
locks         one OS file lock per board, so two workers or two runs never share one
claim         take a free board of the map (or the one asked for) and hold it until released
scan          propose a map from the probes and serial ports connected to this host
"""
