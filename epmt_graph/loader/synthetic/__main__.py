"""``python -m epmt_graph.loader.synthetic OUT.tgz --procs N [options]``: write a synthetic job."""

from epmt_graph.loader.synthetic.archive import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
