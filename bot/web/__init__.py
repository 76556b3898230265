"""The web board (`dispatch serve --web`, `dispatch demo --web`): requests in flight drawn as
task graphs, the agents as lanes, recent requests with their transcripts, live.

- `server`: the aiohttp app, its routes and the actions (Cancel, Retry);
- `auth`: the token, the login cookie and the CSRF check;
- `live`: one reader of the store, woken by the dispatcher's changes, feeding every browser;
- `views`: the JSON the page draws, shaped from the store's rows;
- `static/`: the page itself (HTML, CSS, a small script that lays out and draws the graphs
  in SVG). Nothing is fetched from anywhere else.
"""

from bot.web.auth import check_settings
from bot.web.server import Metrics, WebBoard

__all__ = ["Metrics", "WebBoard", "check_settings"]
