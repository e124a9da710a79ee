package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", 1, "")
	flag.IntVar(&model.Cluster, "cluster", 1, "")
	flag.IntVar(&model.ClusterHost, "host", 2, "")
	flag.IntVar(&model.Machine, "vm", 2, "")
	listen := flag.String("l", "127.0.0.1:0", "")
	flag.Parse()
	defer model.Remove()
	if err := model.Create(); err != nil { log.Fatal(err) }
	model.Service.Listen = nil
	_ = listen
	s := model.Service.NewServer()
	fmt.Println(s.URL.String())
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	<-c
}
