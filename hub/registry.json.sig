{
 "signatures": [
  {
   "keyid": "038a857318db992f",
   "sha256": "177ef48a68645e6ff93aaf4cd20a3f28ac50b7af804666877e6806f3bca8297d",
   "sig": "E47ZfK+d57c4D5Z1cTJIe531l56ewfwaBdRomqWIFBMFj4pyNwSYUwtvdHbt8ZZ0kAm630kCWp952zs5k+5WAw=="
  }
 ]
}
