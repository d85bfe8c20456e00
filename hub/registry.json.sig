{
 "signatures": [
  {
   "keyid": "09cd24ad9f853ce9",
   "sha256": "74482b75ccac08acc002d0f76227a086e371c05d89017ed28d62f5f3364c8efd",
   "sig": "e9KGqDgyswJl3E+TIWIpxm5vV3lo/h9N6drF6iRrDtU5nu9qg5Hklb8ojh7t0wf9ahUy2PW7fSjoLEJIFPSEAA=="
  }
 ]
}
