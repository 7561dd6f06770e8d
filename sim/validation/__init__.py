"""Checks of the model against real negotiations it was not written for: the historical cases of
docs/VALIDATION.md (`cases`) and the DEU III benchmark of EU legislative decisions (`deu`, `council`,
`solutions`; docs/BENCHMARK.md)."""
