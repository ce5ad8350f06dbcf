"""Probe engine: scapy-built probe flows, sent and received in lab nodes, analysed per flow.

Import submodules directly; this package imports nothing heavy, because its agents start
inside lab namespaces and must start fast.
"""
