"""Reports: the evaluation report of a run, in Chinese or English, from its results Dataset.

One module per step: `content` says what the report contains (sections of paragraphs,
tables and figures, as data) with `targets` (the source documents' targets, met or not)
and `focus` (the experiment's own tables by status, residence or quintile); `numbers`
formats values in each language's units; `figures` draws the matplotlib charts; `render`
writes HTML and Markdown; `build` writes the files atomically beside the results. `table`
gives the headline table printed on the terminal by `microsim run`.
"""
