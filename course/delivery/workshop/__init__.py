"""The workshop kit, one module per job:

- `catalogue`: the lessons and exercises as they describe themselves; the tracks (workshop/tracks.toml);
- `agenda`: `course agenda`, printable agendas (HTML, PDF through Chromium);
- `site`: `course site`, the static course site, built offline;
- `bundle`: `course bundle`, the offline install bundle;
- `hub`: the hub's user environment (stdlib only: runs before the course environment exists);
- `cli`: the three commands, added to `course`.
"""
