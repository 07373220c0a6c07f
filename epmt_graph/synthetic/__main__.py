"""``python -m epmt_graph.synthetic OUT.tgz --procs N [options]``: write a synthetic job."""

from epmt_graph.synthetic.archive import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
