"""The Starlette application: public pages now, the admin area and APIs beside them."""
