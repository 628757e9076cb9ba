"""The adopters' app: a server-rendered web app that is a confidential OAuth client of the
register (backend-for-frontend: the tokens never reach the browser)."""
