"""The teaching app: the model in a browser, built with Solara as Mesa's visualization is (`python -m sim.viz`).

The model never imports this package. The pure helpers (`controls`, `layout`, `history`, `charts`)
import neither Solara nor Mesa's visualization, so they can be tested without a browser; only
`components` and `app` need Solara.
"""
