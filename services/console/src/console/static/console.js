// NHS.UK frontend's components (the header's "More" menu on narrow screens, error summary focus...).
// Every page also works without JavaScript.
import { initAll } from "/static/nhsuk-frontend.min.js";

initAll();
